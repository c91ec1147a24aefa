//! Text and binary I/O of values, as PostgreSQL's type input/output and
//! send/receive functions define them.

pub mod binary;
pub mod text;

pub use binary::{decode_binary, encode_binary};
pub use text::{format_text, parse_text, TextContext, TimeZone};

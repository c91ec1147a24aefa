//! Binary I/O: PostgreSQL's `typsend`/`typreceive` for every [`DataType`].

use crate::{DataType, Datum, Result};

/// Appends the binary wire form of a non-NULL `datum` of type `ty`.
pub fn encode_binary(datum: &Datum, ty: &DataType, out: &mut Vec<u8>) -> Result<()> {
    let _ = (datum, ty, out);
    todo!("binary output")
}

/// Decodes the binary wire form of a value of type `ty`; 22P03 on malformed input.
pub fn decode_binary(bytes: &[u8], ty: &DataType) -> Result<Datum> {
    let _ = (bytes, ty);
    todo!("binary input")
}

//! Small dataflow operators the renderer needs beyond differential's own:
//! a named fallible flat-map that splits its output into rows and errors.

use freshet_common::Error;
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::builder_rc::OperatorBuilder;
use timely::dataflow::operators::generic::OutputBuilder;
use timely::progress::operate::FrontierInterest;
use differential_dataflow::AsCollection;

use super::row::EvalError;
use super::{Collection, Diff, Time};

/// Applies `logic` to every update's data, producing zero or more output
/// data per input (pushed into the supplied vector) or an error.
///
/// Updates keep their time and diff: an output row, or the error, carries
/// the multiplicity of the input it came from, so retracting the input
/// retracts exactly what it produced. When `logic` fails, whatever it had
/// pushed for that input is discarded and only the error is emitted (for
/// the input's diff). The operator is named `name` in timely's logs and
/// introspection. It never exchanges data (pipeline pact) and keeps no
/// state: O(1) memory beyond its output buffers.
pub(crate) fn flat_map_fallible<'scope, D, D2, L>(
    input: Collection<'scope, D>,
    name: &str,
    mut logic: L,
) -> (Collection<'scope, D2>, Collection<'scope, EvalError>)
where
    D: Clone + 'static,
    D2: Clone + 'static,
    L: FnMut(D, &mut Vec<D2>) -> Result<(), Error> + 'static,
{
    let mut builder = OperatorBuilder::new(name.to_owned(), input.inner.scope());
    let mut input = builder.new_input(input.inner, Pipeline);
    builder.set_notify_for(0, FrontierInterest::Never);
    let (oks, oks_stream) = builder.new_output::<Vec<(D2, Time, Diff)>>();
    let (errs, errs_stream) = builder.new_output::<Vec<(EvalError, Time, Diff)>>();
    let mut oks = OutputBuilder::from(oks);
    let mut errs = OutputBuilder::from(errs);

    builder.build(move |_capabilities| {
        let mut produced: Vec<D2> = Vec::new();
        move |_frontiers| {
            let mut oks = oks.activate();
            let mut errs = errs.activate();
            input.for_each_stamp(|capability, batches| {
                let mut ok_session = oks.session(&capability);
                let mut err_session = errs.session(&capability);
                for batch in batches {
                    for (data, time, diff) in batch.drain(..) {
                        produced.clear();
                        match logic(data, &mut produced) {
                            Ok(()) => {
                                for out in produced.drain(..) {
                                    ok_session.give((out, time, diff));
                                }
                            }
                            Err(e) => err_session.give((EvalError(e), time, diff)),
                        }
                    }
                }
            });
        }
    });

    (oks_stream.as_collection(), errs_stream.as_collection())
}

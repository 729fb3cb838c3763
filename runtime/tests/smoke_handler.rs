use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tidings::testing::{Batch, invoke};
use tidings::{Context, Envelope, Event, EventSet, HandlerError, Outcome, Processor};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.thing.happened", version = 1)]
struct ThingHappened {
    #[event(subject)]
    id: String,
    n: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.thing.gone", version = 1)]
struct ThingGone {
    #[event(subject)]
    id: String,
}

#[derive(Debug, EventSet)]
enum ThingEvent {
    Happened(ThingHappened),
    Gone(ThingGone),
}

#[tidings::event_handler(ordering = "latest_wins", main = false)]
async fn count_things(event: Envelope<ThingHappened>, _ctx: &Context) -> Result<(), HandlerError> {
    if event.data.n < 0 {
        return Err(HandlerError::permanent("negative"));
    }
    Ok(())
}

#[tidings::event_handler(main = false)]
async fn any_thing(event: Envelope<ThingEvent>, _ctx: &Context) -> Result<(), HandlerError> {
    match event.data {
        ThingEvent::Happened(_) => Ok(()),
        ThingEvent::Gone(_) => Err("flaky".into()),
    }
}

#[tokio::test]
async fn smoke() {
    let a = Envelope::new(
        "t",
        ThingHappened {
            id: "a".into(),
            n: 1,
        },
    )
    .with_sequence(2);
    let old = Envelope::new(
        "t",
        ThingHappened {
            id: "a".into(),
            n: 1,
        },
    )
    .with_sequence(1);
    let bad = Envelope::new(
        "t",
        ThingHappened {
            id: "b".into(),
            n: -1,
        },
    )
    .with_sequence(1);
    let p = Processor::new(count_things);
    let r = invoke(
        &p,
        &Batch::sqs()
            .event(&a)
            .event(&a)
            .event(&old)
            .event(&bad)
            .raw("nope"),
    )
    .await;
    println!("{:#?}", r.outcomes());
    let r2 = invoke(&p, &Batch::sqs().event(&old)).await;
    assert!(matches!(r2.outcomes()[0], Outcome::Stale { .. }));
    let p2 = Processor::new(any_thing);
    let g = Envelope::new("t", ThingGone { id: "a".into() });
    let r3 = invoke(&p2, &Batch::sns_via_sqs().event(&a).event(&g)).await;
    println!("{:#?} {:?}", r3.outcomes(), r3.sqs_response());
}

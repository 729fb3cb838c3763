#![deny(warnings)]

use std::borrow::Cow;
use std::sync::Arc;
use tidings_events::Event;

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "test.optional", version = 1)]
pub struct Optional {
    #[event(subject)]
    pub id: Option<String>,
}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "test.boxed", version = 1)]
pub struct Boxed {
    #[event(subject)]
    pub id: Box<str>,
}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "test.shared", version = 1)]
pub struct Shared {
    #[event(subject)]
    pub id: Arc<str>,
}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "test.cow", version = 1)]
pub struct Borrowed {
    #[event(subject)]
    pub id: Cow<'static, str>,
}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "test.optional.boxed", version = 1)]
pub struct OptionalBoxed {
    #[event(subject)]
    pub id: Option<Box<str>>,
}

fn main() {
    assert_eq!(
        Optional {
            id: Some("a".into())
        }
        .subject(),
        Some("a")
    );
    assert_eq!(Optional { id: None }.subject(), None);
    assert_eq!(Boxed { id: "b".into() }.subject(), Some("b"));
    assert_eq!(Shared { id: "c".into() }.subject(), Some("c"));
    assert_eq!(
        Borrowed {
            id: Cow::Borrowed("d")
        }
        .subject(),
        Some("d")
    );
    assert_eq!(
        OptionalBoxed {
            id: Some("e".into())
        }
        .subject(),
        Some("e")
    );
    assert_eq!(OptionalBoxed { id: None }.subject(), None);
}

//! The deployed shape of the shop, as `template.yaml` deploys it: which topic feeds which
//! consumer's queue, with which filter policy.
//!
//! The filter policies are not written here: they come from the handlers' metadata
//! ([`tidings::codegen::filter_policy`]), the same source the template is checked against,
//! so the demo routes exactly as the deployed subscriptions do.

use std::collections::BTreeMap;

use serde_json::Value;
use tidings::HandlerRegistration;

/// An SNS topic of the shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// The standard topic every order and stock event goes to.
    Events,
    /// The FIFO topic of payment captures, grouped by order.
    Payments,
}

impl Topic {
    /// Both topics.
    pub const ALL: [Topic; 2] = [Topic::Events, Topic::Payments];

    /// The topic's name (a FIFO topic's ends in `.fifo`, as AWS requires).
    pub fn name(self) -> &'static str {
        match self {
            Self::Events => "shop-events",
            Self::Payments => "shop-payments.fifo",
        }
    }

    /// Whether the topic is FIFO.
    pub fn is_fifo(self) -> bool {
        self == Self::Payments
    }
}

/// One consumer: a handler, its queue, and the subscriptions that feed the queue.
#[derive(Debug, Clone)]
pub struct Consumer {
    /// The handler's name, e.g. `inventory`.
    pub name: &'static str,
    /// The queue's name.
    pub queue: &'static str,
    /// The topics the queue is subscribed to.
    pub topics: &'static [Topic],
    /// The subscriptions' filter policy, from the handler's metadata.
    pub filter_policy: Value,
    policy: FilterPolicy,
}

impl Consumer {
    /// Whether the queue is FIFO (its name ends in `.fifo`).
    pub fn is_fifo(&self) -> bool {
        self.queue.ends_with(".fifo")
    }

    /// Whether the subscriptions deliver a message with these attributes to the queue.
    pub fn accepts(&self, attributes: &BTreeMap<String, String>) -> bool {
        self.policy.matches(attributes)
    }

    /// The types the filter policy lets through, for people.
    pub fn policy_summary(&self) -> String {
        self.policy.summary()
    }
}

/// The handler, queue and topics of each consumer: the deployment's choices. Payments needs
/// the order of an order's captures, so it reads a FIFO queue on the FIFO topic; analytics
/// counts payments too, so its queue is also subscribed to the payments topic.
const SHAPE: [(&str, &str, &[Topic]); 4] = [
    ("inventory", "shop-inventory", &[Topic::Events]),
    ("email", "shop-email", &[Topic::Events]),
    (
        "analytics",
        "shop-analytics",
        &[Topic::Events, Topic::Payments],
    ),
    ("payments", "shop-payments.fifo", &[Topic::Payments]),
];

/// Why the topology could not be derived.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopologyError {
    /// A consumer's handler is not linked into the program.
    #[error("no handler `{0}` of the shop is linked into this program")]
    MissingHandler(&'static str),
    /// A filter policy uses a form the demo's router does not evaluate.
    #[error(
        "the filter policy of `{handler}` is {policy}: the demo evaluates exact string matches only"
    )]
    UnsupportedPolicy {
        /// The handler.
        handler: &'static str,
        /// The policy.
        policy: String,
    },
}

/// The shop's consumers, with the filter policies of the handlers this program links.
pub fn consumers() -> Result<Vec<Consumer>, TopologyError> {
    let handlers = tidings::codegen::handlers_of_crate("shop");
    SHAPE
        .iter()
        .map(|&(name, queue, topics)| {
            let handler: &HandlerRegistration = handlers
                .iter()
                .find(|h| h.name == name)
                .ok_or(TopologyError::MissingHandler(name))?;
            let filter_policy = tidings::codegen::filter_policy(handler);
            let policy = FilterPolicy::from_json(&filter_policy).ok_or_else(|| {
                TopologyError::UnsupportedPolicy {
                    handler: name,
                    policy: filter_policy.to_string(),
                }
            })?;
            Ok(Consumer {
                name,
                queue,
                topics,
                filter_policy,
                policy,
            })
        })
        .collect()
}

/// The subscriptions of `consumers`, one line each: topic, queue and filter policy.
pub fn describe(consumers: &[Consumer]) -> String {
    let mut text = String::new();
    for consumer in consumers {
        for topic in consumer.topics {
            text.push_str(&format!(
                "  {:<19} -> {:<19} {}\n",
                topic.name(),
                consumer.queue,
                consumer.policy_summary()
            ));
        }
    }
    text
}

/// An SNS filter policy of the form codegen writes: for each attribute, the string values
/// that let a message through; every attribute named must match.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FilterPolicy {
    allowed: BTreeMap<String, Vec<String>>,
}

impl FilterPolicy {
    /// Reads `{"attribute": ["value", ...], ...}`; `None` for any other form.
    fn from_json(policy: &Value) -> Option<Self> {
        let mut allowed = BTreeMap::new();
        for (attribute, values) in policy.as_object()? {
            let values = values
                .as_array()?
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()?;
            allowed.insert(attribute.clone(), values);
        }
        Some(Self { allowed })
    }

    fn matches(&self, attributes: &BTreeMap<String, String>) -> bool {
        self.allowed.iter().all(|(attribute, values)| {
            attributes
                .get(attribute)
                .is_some_and(|value| values.contains(value))
        })
    }

    fn summary(&self) -> String {
        self.allowed
            .iter()
            .map(|(attribute, values)| format!("{attribute} ∈ {{{}}}", values.join(", ")))
            .collect::<Vec<_>>()
            .join(" and ")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn attributes(event_type: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("type".to_owned(), event_type.to_owned())])
    }

    #[test]
    fn every_consumer_routes_exactly_the_types_its_handler_accepts() {
        let consumers = consumers().unwrap();
        let names: Vec<&str> = consumers.iter().map(|c| c.name).collect();
        assert_eq!(names, ["inventory", "email", "analytics", "payments"]);
        let accepted = |name: &str| {
            let consumer = consumers.iter().find(|c| c.name == name).unwrap();
            [
                "shop.order.placed",
                "shop.order.cancelled",
                "shop.stock.reserved",
                "shop.payment.captured",
                "shop.customer.profile.updated",
            ]
            .into_iter()
            .filter(|t| consumer.accepts(&attributes(t)))
            .collect::<Vec<_>>()
        };
        assert_eq!(
            accepted("inventory"),
            ["shop.order.placed", "shop.order.cancelled"]
        );
        assert_eq!(accepted("email"), ["shop.order.placed"]);
        assert_eq!(
            accepted("analytics"),
            [
                "shop.order.placed",
                "shop.order.cancelled",
                "shop.stock.reserved",
                "shop.payment.captured"
            ]
        );
        assert_eq!(accepted("payments"), ["shop.payment.captured"]);
        assert!(
            consumers
                .iter()
                .all(|c| c.is_fifo() == (c.name == "payments"))
        );
    }

    #[test]
    fn a_message_without_the_attribute_matches_no_policy() {
        let policy = FilterPolicy::from_json(&json!({"type": ["a"]})).unwrap();
        assert!(!policy.matches(&BTreeMap::new()));
        assert!(policy.matches(&attributes("a")));
        assert_eq!(policy.summary(), "type ∈ {a}");
    }

    #[test]
    fn other_policy_forms_are_refused_rather_than_misread() {
        assert_eq!(
            FilterPolicy::from_json(&json!({"type": [{"prefix": "shop."}]})),
            None
        );
        assert_eq!(FilterPolicy::from_json(&json!(["type"])), None);
    }
}

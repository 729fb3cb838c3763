//! [`Scenario`]: what happens to the shop during the demo, and when, drawn from the seed.
//!
//! Customers place orders (and send a few the API must refuse), cancel some of them, and
//! the payment provider captures the money of each placed order. Three things go wrong on
//! purpose, because they go wrong in production: the placement of a few cancelled orders is
//! delivered late, after their cancellation; one message no consumer can read reaches a
//! queue; and the idempotency store throttles one batch. The transport adds its own
//! duplicates, delays and reordering on top (see the modes).

use std::collections::BTreeMap;

use serde_json::{Value, json};
use shop_events::{Money, OrderLine, OrderPlaced, sources};
use tidings::Envelope;

use super::rng::Rng;

/// Orders placed successfully.
pub const ORDERS: usize = 24;
/// Of those, orders cancelled.
pub const CANCELLED: usize = 5;
/// Of the cancelled orders, those whose placement is delivered after their cancellation.
pub const LATE_PLACEMENTS: usize = 3;
/// How much later than its cancellation a late placement is delivered.
pub const LATE_BY_MS: u64 = 3_000;
/// The share of deliveries the transport duplicates, in percent.
pub const DUPLICATE_PERCENT: u64 = 15;
/// When the poison message reaches the email queue.
pub const POISON_AT_MS: u64 = 1_000;
/// When the analytics store throttles (its next call fails).
pub const THROTTLE_AT_MS: u64 = 1_600;

/// The SKUs regular orders buy; the teapot is kept for the order that asks for too many.
const SKUS: [&str; 3] = ["mug-blue", "mug-red", "tea-sampler"];
/// The SKU the out-of-stock order asks too many of.
pub const SCARCE_SKU: &str = "teapot";

/// One thing that happens at a time of the demo's clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// When, in milliseconds from the start.
    pub at_ms: u64,
    /// What.
    pub action: Action,
}

/// What happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `POST /orders` for order number `order`.
    Place {
        /// The order's number in the scenario (its id comes from the API).
        order: usize,
        /// The request body.
        body: String,
        /// Whether the placement's event is delivered after the order's cancellation.
        late: bool,
        /// How long after the placement the payment provider captures the money.
        capture_after_ms: u64,
    },
    /// `POST /orders` with a body the API must refuse with 400.
    Invalid {
        /// The request body.
        body: String,
    },
    /// `POST /orders` for one more unit of [`SCARCE_SKU`] than is in stock: 409.
    OutOfStock,
    /// `POST /orders/{id}/cancel` of order number `order`.
    Cancel {
        /// The order's number.
        order: usize,
    },
    /// The poison message is sent to the email queue.
    Poison,
    /// The analytics consumer's idempotency store throttles its next call.
    Throttle,
}

/// The whole script of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// Every step, in time order.
    pub steps: Vec<Step>,
    /// The units of each SKU the placed orders need.
    pub needs: BTreeMap<&'static str, u32>,
}

impl Scenario {
    /// The scenario of `rng`'s seed.
    pub fn build(rng: &mut Rng) -> Self {
        let mut steps = Vec::new();
        let mut needs: BTreeMap<&'static str, u32> = BTreeMap::new();

        // Which orders are cancelled, and which of those see their placement late.
        let mut numbers: Vec<usize> = (0..ORDERS).collect();
        rng.shuffle(&mut numbers);
        let cancelled = &numbers[..CANCELLED];
        let late = &cancelled[..LATE_PLACEMENTS];

        // The refused requests go between the orders, at places drawn like everything else.
        let mut requests: Vec<Option<Action>> = (0..ORDERS).map(|_| None).collect();
        for refused in [
            Action::Invalid {
                body: json!({"lines": [{"sku": "mug-blue", "quantity": 1}]}).to_string(),
            },
            Action::Invalid {
                body: json!({"customer_id": "customer-3", "lines": [{"sku": "mug-red", "quantity": 0}]})
                    .to_string(),
            },
            Action::OutOfStock,
        ] {
            let at = rng.between(1, requests.len() as u64) as usize;
            requests.insert(at, Some(refused));
        }

        let mut at_ms = 0;
        let mut order = 0;
        for request in requests {
            at_ms += rng.between(60, 180);
            let action = match request {
                Some(refused) => refused,
                None => {
                    let body = order_body(rng, order, &mut needs);
                    let is_late = late.contains(&order);
                    if cancelled.contains(&order) {
                        let after = if is_late {
                            rng.between(250, 400)
                        } else {
                            rng.between(1_500, 2_500)
                        };
                        steps.push(Step {
                            at_ms: at_ms + after,
                            action: Action::Cancel { order },
                        });
                    }
                    let place = Action::Place {
                        order,
                        body,
                        late: is_late,
                        capture_after_ms: rng.between(300, 900),
                    };
                    order += 1;
                    place
                }
            };
            steps.push(Step { at_ms, action });
        }
        steps.push(Step {
            at_ms: POISON_AT_MS,
            action: Action::Poison,
        });
        steps.push(Step {
            at_ms: THROTTLE_AT_MS,
            action: Action::Throttle,
        });
        // Stable, so steps of the same time keep the order they were written in.
        steps.sort_by_key(|step| step.at_ms);
        Self { steps, needs }
    }

    /// The number of API requests.
    pub fn requests(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| {
                matches!(
                    s.action,
                    Action::Place { .. }
                        | Action::Invalid { .. }
                        | Action::OutOfStock
                        | Action::Cancel { .. }
                )
            })
            .count()
    }
}

/// The body of order number `order`: one to three lines of distinct SKUs, one to three
/// units each.
fn order_body(rng: &mut Rng, order: usize, needs: &mut BTreeMap<&'static str, u32>) -> String {
    let mut skus = SKUS;
    rng.shuffle(&mut skus);
    let count = rng.between(1, SKUS.len() as u64) as usize;
    let lines: Vec<Value> = skus[..count]
        .iter()
        .map(|sku| {
            let quantity = rng.between(1, 3) as u32;
            *needs.entry(sku).or_default() += quantity;
            json!({"sku": sku, "quantity": quantity})
        })
        .collect();
    json!({"customer_id": format!("customer-{}", order % 9 + 1), "lines": lines}).to_string()
}

/// The body of the poison message: an `OrderPlaced` of version 3, as a producer that
/// deployed a new version before its consumers learnt it would send. No consumer of this
/// build can read it, and no retry will change that.
pub fn poison_body() -> String {
    let order = OrderPlaced {
        order_id: "order-from-a-newer-producer".into(),
        customer_id: "customer-1".into(),
        lines: vec![OrderLine {
            sku: "mug-blue".into(),
            quantity: 1,
            unit_price: Some(Money::eur(1299)),
        }],
        total: Money::eur(1299),
    };
    let envelope = Envelope::new(sources::ORDERS, order).with_sequence(1);
    let mut json: Value = serde_json::from_str(
        &envelope
            .to_json()
            .expect("an OrderPlaced envelope serializes"),
    )
    .expect("an envelope is JSON");
    json["dataversion"] = json!(3);
    json["dataschema"] = json!("urn:tidings:schema:shop.order.placed:v3");
    json["data"]["gift_wrap"] = json!(true);
    json.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_writes_the_same_scenario() {
        let a = Scenario::build(&mut Rng::new(11));
        let b = Scenario::build(&mut Rng::new(11));
        let c = Scenario::build(&mut Rng::new(12));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn the_scenario_has_every_kind_of_request_in_time_order() {
        let scenario = Scenario::build(&mut Rng::new(5));
        let count = |f: fn(&Action) -> bool| scenario.steps.iter().filter(|s| f(&s.action)).count();
        assert_eq!(count(|a| matches!(a, Action::Place { .. })), ORDERS);
        assert_eq!(
            count(|a| matches!(a, Action::Place { late: true, .. })),
            LATE_PLACEMENTS
        );
        assert_eq!(count(|a| matches!(a, Action::Cancel { .. })), CANCELLED);
        assert_eq!(count(|a| matches!(a, Action::Invalid { .. })), 2);
        assert_eq!(count(|a| matches!(a, Action::OutOfStock)), 1);
        assert_eq!(count(|a| matches!(a, Action::Poison)), 1);
        assert_eq!(scenario.requests(), ORDERS + CANCELLED + 3);
        assert!(scenario.steps.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    }

    #[test]
    fn every_cancellation_follows_its_placement() {
        let scenario = Scenario::build(&mut Rng::new(9));
        for (i, step) in scenario.steps.iter().enumerate() {
            if let Action::Cancel { order } = step.action {
                let placed = scenario.steps[..i]
                    .iter()
                    .position(|s| matches!(s.action, Action::Place { order: o, .. } if o == order));
                assert!(
                    placed.is_some(),
                    "order {order} is cancelled before it is placed"
                );
            }
        }
    }

    #[test]
    fn the_poison_is_an_order_placed_of_an_unknown_version() {
        let poison: Value = serde_json::from_str(&poison_body()).unwrap();
        assert_eq!(poison["type"], "shop.order.placed");
        assert_eq!(poison["dataversion"], 3);
        let error = Envelope::<OrderPlaced>::decode(&poison_body()).unwrap_err();
        assert!(error.to_string().contains('3'), "{error}");
    }
}

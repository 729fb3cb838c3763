//! [`Script`]: plays a [`Scenario`] against the orders API, step by step, as the demo's clock
//! reaches each step; both modes run it and only differ in what carries the events.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use shop_events::{Money, PaymentCaptured, sources};
use tidings::store::StoreError;
use tidings::testing::{FlakyStore, StoreOp};
use tidings::{Envelope, Store};

use super::api::{self, Answer, ApiTally};
use super::scenario::{Action, SCARCE_SKU, Scenario, Step, poison_body};
use shop::{MemoryStockBook, Services};

/// What a step asks of the mode running the demo.
#[derive(Debug, Clone, PartialEq)]
pub enum Happening {
    /// The API answered a request. What it published is in the services' event sink: route
    /// it now, or, when `late`, deliver it [`super::scenario::LATE_BY_MS`] later.
    Answered {
        /// Whether the events are delivered late.
        late: bool,
    },
    /// The payment provider captured an order's money: publish this to the payments topic.
    Captured(Box<Envelope<PaymentCaptured>>),
    /// Send this body, which no consumer can read, to the email queue.
    Poison(String),
    /// Make the analytics consumer's idempotency store throttle its next call.
    Throttle,
}

/// What [`Happening::Throttle`] does to the analytics consumer's `store`, in either driver:
/// its next claim fails as a throttled DynamoDB table fails it.
pub fn throttle<S: Store>(store: &FlakyStore<S>) {
    store.fail_calls(
        StoreOp::Claim,
        1,
        StoreError::Throttled("ProvisionedThroughputExceededException".into()),
    );
}

/// A capture the payment provider will make.
#[derive(Debug, Clone)]
struct PendingCapture {
    at_ms: u64,
    order: usize,
    order_id: String,
    amount: Money,
}

/// Plays a scenario: calls the API, remembers the orders it created, and schedules their
/// payment captures.
pub struct Script {
    steps: VecDeque<Step>,
    captures: Vec<PendingCapture>,
    order_ids: BTreeMap<usize, String>,
    services: Services,
    stock: Arc<MemoryStockBook>,
    total_requests: usize,
    /// What the API answered so far.
    pub api: ApiTally,
}

impl Script {
    /// A script of `scenario` against the API running with `services`, whose stock book is
    /// `stock`. Tops the stock up to what the scenario's orders need, so that only the order
    /// meant to find no stock finds none, however often the demo ran in this process.
    pub fn new(scenario: Scenario, services: Services, stock: Arc<MemoryStockBook>) -> Self {
        for (sku, need) in &scenario.needs {
            let available = stock.available(sku);
            if available < *need {
                stock.restock(sku, need - available);
            }
        }
        Self {
            total_requests: scenario.requests(),
            steps: scenario.steps.into(),
            captures: Vec::new(),
            order_ids: BTreeMap::new(),
            services,
            stock,
            api: ApiTally::default(),
        }
    }

    /// Requests the scenario sends in all.
    pub fn total_requests(&self) -> usize {
        self.total_requests
    }

    /// Whether every step ran and every capture was made.
    pub fn is_done(&self) -> bool {
        self.steps.is_empty() && self.captures.is_empty()
    }

    /// Runs the next step due at `now_ms` (the earliest first), if any.
    pub async fn next(&mut self, now_ms: u64) -> Option<Happening> {
        let step_at = self.steps.front().map(|s| s.at_ms);
        let capture = self
            .captures
            .iter()
            .enumerate()
            .min_by_key(|(_, c)| (c.at_ms, c.order))
            .map(|(i, c)| (i, c.at_ms));
        match (step_at, capture) {
            (_, Some((i, at))) if at <= now_ms && step_at.is_none_or(|s| at < s) => {
                let capture = self.captures.remove(i);
                Some(Happening::Captured(Box::new(captured(&capture))))
            }
            (Some(at), _) if at <= now_ms => {
                let step = self.steps.pop_front().expect("a step is due");
                Some(self.run(step).await)
            }
            _ => None,
        }
    }

    async fn run(&mut self, step: Step) -> Happening {
        match step.action {
            Action::Place {
                order,
                body,
                late,
                capture_after_ms,
            } => {
                let answer = self.post("/orders", Some(&body)).await;
                if answer.status == 201
                    && let Some(order_id) = answer.body["order_id"].as_str()
                {
                    self.order_ids.insert(order, order_id.to_owned());
                    if let Ok(amount) = serde_json::from_value(answer.body["total"].clone()) {
                        self.captures.push(PendingCapture {
                            at_ms: step.at_ms + capture_after_ms,
                            order,
                            order_id: order_id.to_owned(),
                            amount,
                        });
                    }
                }
                Happening::Answered { late }
            }
            Action::Invalid { body } => {
                self.post("/orders", Some(&body)).await;
                Happening::Answered { late: false }
            }
            Action::OutOfStock => {
                let wanted = self.stock.available(SCARCE_SKU) + 1;
                let body = serde_json::json!({
                    "customer_id": "customer-4",
                    "lines": [{"sku": SCARCE_SKU, "quantity": wanted}],
                });
                self.post("/orders", Some(&body.to_string())).await;
                Happening::Answered { late: false }
            }
            Action::Cancel { order } => {
                // An order the API refused has no id; the scenario only cancels placed
                // orders, so this stays a request to an unknown order, answered 404.
                let order_id = self
                    .order_ids
                    .get(&order)
                    .cloned()
                    .unwrap_or_else(|| format!("unplaced-{order}"));
                self.post(&format!("/orders/{order_id}/cancel"), None).await;
                Happening::Answered { late: false }
            }
            Action::Poison => Happening::Poison(poison_body()),
            Action::Throttle => Happening::Throttle,
        }
    }

    async fn post(&mut self, path: &str, body: Option<&str>) -> Answer {
        let answer = api::call(&self.services, "POST", path, body).await;
        self.api.count(&answer);
        answer
    }
}

/// The provider's event for `capture`.
fn captured(capture: &PendingCapture) -> Envelope<PaymentCaptured> {
    Envelope::new(
        sources::PAYMENTS,
        PaymentCaptured {
            order_id: capture.order_id.clone(),
            payment_id: format!("pay-{:04}", capture.order + 1),
            amount: capture.amount.clone(),
        },
    )
}

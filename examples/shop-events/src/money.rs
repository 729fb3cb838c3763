use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An amount of money in the smallest unit of its currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Money {
    /// The amount in minor units (cents), e.g. 1999 for 19.99.
    pub amount_cents: i64,
    /// The ISO 4217 currency code, e.g. `EUR`.
    pub currency: String,
}

impl Money {
    /// An amount in euros, the only currency of version 1 events.
    pub fn eur(amount_cents: i64) -> Self {
        Self {
            amount_cents,
            currency: "EUR".to_owned(),
        }
    }
}

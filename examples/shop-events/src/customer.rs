use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tidings_events::Event;

/// A customer changed their profile.
///
/// One business event for one change, however many fields it touched: it carries the whole
/// profile after the change, so consumers replace their copy without calling back, and the
/// list of fields that changed, so consumers that care about one field can skip the rest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "shop.customer.profile.updated", version = 1)]
#[schemars(example = example_profile_updated())]
pub struct CustomerProfileUpdated {
    /// The customer.
    #[event(subject)]
    pub customer_id: String,
    /// Which fields this change touched.
    pub changed: Vec<ProfileField>,
    /// The profile after the change.
    pub profile: CustomerProfile,
}

/// A field of the customer profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProfileField {
    /// `email`.
    Email,
    /// `display_name`.
    DisplayName,
    /// `shipping_address`.
    ShippingAddress,
    /// `marketing_opt_in`.
    MarketingOptIn,
    /// A field added after this code was built.
    #[serde(other)]
    Other,
}

/// A customer's profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CustomerProfile {
    /// Where order confirmations go.
    pub email: String,
    /// The name shown in the shop.
    pub display_name: String,
    /// The default shipping address, if one is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
    /// Whether the customer agreed to marketing email.
    pub marketing_opt_in: bool,
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Address {
    /// Street and number.
    pub street: String,
    /// City.
    pub city: String,
    /// Postal code.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
}

fn example_profile_updated() -> CustomerProfileUpdated {
    CustomerProfileUpdated {
        customer_id: "customer-7".into(),
        changed: vec![ProfileField::Email, ProfileField::MarketingOptIn],
        profile: CustomerProfile {
            email: "ada@example.com".into(),
            display_name: "Ada".into(),
            shipping_address: Some(Address {
                street: "Keizersgracht 1".into(),
                city: "Amsterdam".into(),
                postal_code: "1015 CJ".into(),
                country: "NL".into(),
            }),
            marketing_opt_in: true,
        },
    }
}

//! The orders API as the demo calls it: the API function itself, in-process, with the
//! requests API Gateway's HTTP API sends it.

use aws_lambda_events::encodings::Body;
use serde_json::Value;

use shop::Services;
use shop::orders::{api_request, handle};

/// The API's answer to one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body (`Null` when there was none or it was not JSON).
    pub body: Value,
}

/// Sends `method path` with `body` to the orders API function, with `services`.
pub async fn call(services: &Services, method: &str, path: &str, body: Option<&str>) -> Answer {
    let response = handle(api_request(method, path, body), services).await;
    let body = match &response.body {
        Some(Body::Text(text)) => serde_json::from_str(text).unwrap_or(Value::Null),
        Some(Body::Binary(bytes)) => serde_json::from_slice(bytes).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    Answer {
        status: u16::try_from(response.status_code).unwrap_or(0),
        body,
    }
}

/// A request the API refused, as the client saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status.
    pub status: u16,
    /// The error code of the body, e.g. `invalid_request`.
    pub code: String,
    /// The message of the body.
    pub message: String,
}

/// What the API answered over the whole run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiTally {
    /// Requests sent.
    pub requests: usize,
    /// The ids of the orders placed (201), in the order they were placed.
    pub placed: Vec<String>,
    /// The ids of the orders cancelled (200).
    pub cancelled: Vec<String>,
    /// Every refusal (4xx, 5xx), in order.
    pub refused: Vec<Refusal>,
}

impl ApiTally {
    /// Counts `answer`: a 201 is a placement and a 200 a cancellation (both name their
    /// order), anything else a refusal.
    pub fn count(&mut self, answer: &Answer) {
        self.requests += 1;
        let order_id = answer.body["order_id"].as_str().map(str::to_owned);
        match (answer.status, order_id) {
            (201, Some(id)) => self.placed.push(id),
            (200, Some(id)) => self.cancelled.push(id),
            _ => self.refused.push(Refusal {
                status: answer.status,
                code: answer.body["error"].as_str().unwrap_or("?").to_owned(),
                message: answer.body["message"].as_str().unwrap_or("").to_owned(),
            }),
        }
    }

    /// How many refusals had `status`.
    pub fn refused_with(&self, status: u16) -> usize {
        self.refused.iter().filter(|r| r.status == status).count()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn answers_are_counted_by_kind() {
        let mut tally = ApiTally::default();
        tally.count(&Answer {
            status: 201,
            body: json!({"order_id": "order-1", "status": "placed"}),
        });
        tally.count(&Answer {
            status: 200,
            body: json!({"order_id": "order-1", "status": "cancelled"}),
        });
        tally.count(&Answer {
            status: 409,
            body: json!({"error": "out_of_stock", "message": "not enough"}),
        });
        assert_eq!(tally.requests, 3);
        assert_eq!(tally.placed, ["order-1"]);
        assert_eq!(tally.cancelled, ["order-1"]);
        assert_eq!(
            tally.refused,
            [Refusal {
                status: 409,
                code: "out_of_stock".into(),
                message: "not enough".into()
            }]
        );
        assert_eq!(tally.refused_with(409), 1);
        assert_eq!(tally.refused_with(400), 0);
    }
}

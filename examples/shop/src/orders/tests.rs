//! The orders API through its Lambda handler, each test with a shop of its own.

use std::sync::Arc;

use async_trait::async_trait;
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use serde_json::{Value, json};
use shop_events::{CancelReason, Money, OrderCancelled, OrderLine, OrderPlaced, sources};
use tidings::Envelope;

use super::*;
use crate::order_book::{Order, OrderStatus};
use crate::{BackendError, EventSink, MemoryServices, OrderBook};

/// A shop with two mugs' worth of stock and one teapot, and a gift card priced in dollars.
fn shop() -> MemoryServices {
    let shop = MemoryServices::new();
    shop.add_item("mug-blue", Money::eur(1299), 5);
    shop.add_item("teapot", Money::eur(3450), 1);
    shop.add_item(
        "gift-card",
        Money {
            amount_cents: 2500,
            currency: "USD".into(),
        },
        10,
    );
    shop
}

/// The status and JSON body of an answer.
fn read(response: &ApiGatewayV2httpResponse) -> (i64, Value) {
    let body = match &response.body {
        Some(Body::Text(text)) => serde_json::from_str(text).expect("a JSON body"),
        other => panic!("expected a text body, got {other:?}"),
    };
    (response.status_code, body)
}

async fn post(services: &Services, path: &str, body: Option<&str>) -> (i64, Value) {
    read(&handle(api_request("POST", path, body), services).await)
}

const TWO_MUGS_AND_A_TEAPOT: &str = r#"{"customer_id":"customer-7","lines":[
    {"sku":"mug-blue","quantity":2},{"sku":"teapot","quantity":1}]}"#;

fn priced(sku: &str, quantity: u32, cents: i64) -> OrderLine {
    OrderLine {
        sku: sku.into(),
        quantity,
        unit_price: Some(Money::eur(cents)),
    }
}

#[tokio::test]
async fn a_valid_order_is_reserved_answered_201_and_published_once() {
    let shop = shop();
    let response = handle(
        api_request("POST", "/orders", Some(TWO_MUGS_AND_A_TEAPOT)),
        &shop.services(),
    )
    .await;
    let (status, body) = read(&response);

    assert_eq!(status, 201, "{body}");
    let order_id = body["order_id"].as_str().expect("an order id").to_owned();
    assert!(order_id.starts_with("order-"), "{order_id}");
    let lines = vec![priced("mug-blue", 2, 1299), priced("teapot", 1, 3450)];
    assert_eq!(
        body,
        json!({
            "order_id": order_id,
            "status": "placed",
            "lines": lines,
            "total": {"amount_cents": 6048, "currency": "EUR"},
        })
    );
    assert_eq!(
        response.headers["location"].to_str().unwrap(),
        format!("/orders/{order_id}")
    );
    assert_eq!(
        response.headers["content-type"].to_str().unwrap(),
        "application/json"
    );

    // Reserved synchronously, before the answer.
    assert_eq!(shop.stock.available("mug-blue"), 3);
    assert_eq!(shop.stock.available("teapot"), 0);

    // Exactly one event, which the consumers decode from the wire.
    let published = shop.events.published();
    assert_eq!(published.len(), 1);
    let wire = published[0].to_json().unwrap();
    let event = Envelope::<OrderPlaced>::decode(&wire).unwrap();
    assert_eq!(event.attributes.event_type, "shop.order.placed");
    assert_eq!(event.attributes.data_version, 2);
    assert_eq!(event.attributes.source, sources::ORDERS);
    assert_eq!(event.subject(), Some(order_id.as_str()));
    assert_eq!(event.sequence(), Some(FIRST_SEQUENCE));
    assert_eq!(
        event.data,
        OrderPlaced {
            order_id: order_id.clone(),
            customer_id: "customer-7".into(),
            lines: lines.clone(),
            total: Money::eur(6048),
        }
    );
    assert_eq!(
        shop.orders.get(&order_id).await.unwrap(),
        Some(Order {
            order_id,
            customer_id: "customer-7".into(),
            lines,
            total: Money::eur(6048),
            status: OrderStatus::Placed,
            sequence: 1,
        })
    );
}

#[tokio::test]
async fn the_currency_may_be_named_when_it_matches_the_prices() {
    let shop = shop();
    let body = r#"{"customer_id":"c","lines":[{"sku":"mug-blue","quantity":1}],"currency":"EUR"}"#;
    let (status, answer) = post(&shop.services(), "/orders", Some(body)).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(
        answer["total"],
        json!({"amount_cents": 1299, "currency": "EUR"})
    );
}

#[tokio::test]
async fn invalid_orders_get_400_naming_the_field_and_change_nothing() {
    let cases = [
        (None, "body", body::BODY_SHAPE.to_owned()),
        (
            Some(r#"{"customer_id":"c","lines":[{"sku":"mug-blue","quantity":0}]}"#),
            "lines[0].quantity",
            "`lines[0].quantity` must be a whole number from 1 to 1000, not 0".to_owned(),
        ),
        (
            Some(r#"{"lines":[{"sku":"mug-blue","quantity":1}]}"#),
            "customer_id",
            "`customer_id` is required: the id of the customer placing the order".to_owned(),
        ),
        (
            Some(
                r#"{"customer_id":"c","lines":[{"sku":"mug-blue","quantity":1},{"sku":"kettle","quantity":1}]}"#,
            ),
            "lines[1].sku",
            "the shop does not sell `kettle`".to_owned(),
        ),
        (
            Some(
                r#"{"customer_id":"c","lines":[{"sku":"mug-blue","quantity":1}],"currency":"USD"}"#,
            ),
            "currency",
            "`mug-blue` is priced in EUR, not USD: send \"EUR\" or leave `currency` out".to_owned(),
        ),
        (
            Some(
                r#"{"customer_id":"c","lines":[{"sku":"mug-blue","quantity":1},{"sku":"gift-card","quantity":1}]}"#,
            ),
            "lines[1].sku",
            "`gift-card` is priced in USD, the earlier lines in EUR: order it separately"
                .to_owned(),
        ),
    ];
    for (body, field, message) in cases {
        let shop = shop();
        let (status, answer) = post(&shop.services(), "/orders", body).await;
        assert_eq!(status, 400, "{body:?}");
        assert_eq!(
            answer,
            json!({"error": "invalid_request", "field": field, "message": message})
        );
        assert_eq!(shop.events.published(), Vec::new(), "{body:?}");
        assert_eq!(shop.stock.available("mug-blue"), 5, "{body:?}");
    }
}

#[tokio::test]
async fn an_order_out_of_stock_gets_409_and_holds_and_publishes_nothing() {
    let shop = shop();
    let body = r#"{"customer_id":"c","lines":[{"sku":"mug-blue","quantity":2},{"sku":"teapot","quantity":2}]}"#;

    let (status, answer) = post(&shop.services(), "/orders", Some(body)).await;

    assert_eq!(status, 409);
    assert_eq!(
        answer,
        json!({
            "error": "out_of_stock",
            "field": "lines[1].quantity",
            "message": "not enough `teapot` in stock: 2 requested, 1 available",
        })
    );
    assert_eq!(shop.events.published(), Vec::new());
    assert_eq!(shop.stock.available("mug-blue"), 5, "all or nothing");
    assert_eq!(shop.stock.available("teapot"), 1);
}

#[tokio::test]
async fn a_cancellation_publishes_the_next_sequence_once() {
    let shop = shop();
    let services = shop.services();
    let (_, placed) = post(&services, "/orders", Some(TWO_MUGS_AND_A_TEAPOT)).await;
    let order_id = placed["order_id"].as_str().unwrap().to_owned();
    let path = format!("/orders/{order_id}/cancel");

    let (status, answer) = post(&services, &path, Some(r#"{"reason":"payment_declined"}"#)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer, json!({"order_id": order_id, "status": "cancelled"}));

    let published = shop.events.published();
    assert_eq!(published.len(), 2);
    let event = Envelope::<OrderCancelled>::decode(&published[1].to_json().unwrap()).unwrap();
    assert_eq!(event.subject(), Some(order_id.as_str()));
    assert_eq!(event.sequence(), Some(2));
    assert_eq!(
        event.data,
        OrderCancelled {
            order_id: order_id.clone(),
            reason: CancelReason::PaymentDeclined,
            lines: vec![priced("mug-blue", 2, 1299), priced("teapot", 1, 3450)],
        }
    );
    // The stock comes back asynchronously, through inventory.
    assert_eq!(shop.stock.available("mug-blue"), 3);

    let (again, refusal) = post(&services, &path, None).await;
    assert_eq!(again, 409);
    assert_eq!(
        refusal,
        json!({
            "error": "already_cancelled",
            "message": format!("order `{order_id}` is already cancelled"),
        })
    );
    assert_eq!(shop.events.published().len(), 2);
}

#[tokio::test]
async fn a_cancellation_without_a_body_is_the_customers_request() {
    let shop = shop();
    let services = shop.services();
    let (_, placed) = post(&services, "/orders", Some(TWO_MUGS_AND_A_TEAPOT)).await;
    let order_id = placed["order_id"].as_str().unwrap();

    let (status, _) = post(&services, &format!("/orders/{order_id}/cancel"), None).await;

    assert_eq!(status, 200);
    let event =
        Envelope::<OrderCancelled>::decode(&shop.events.published()[1].to_json().unwrap()).unwrap();
    assert_eq!(event.data.reason, CancelReason::CustomerRequest);
}

#[tokio::test]
async fn cancelling_an_unknown_order_or_for_an_unknown_reason_is_refused() {
    let shop = shop();
    let services = shop.services();
    let (status, answer) = post(&services, "/orders/order-nope/cancel", None).await;
    assert_eq!(status, 404);
    assert_eq!(
        answer,
        json!({"error": "not_found", "message": "there is no order `order-nope`"})
    );

    let (_, placed) = post(&services, "/orders", Some(TWO_MUGS_AND_A_TEAPOT)).await;
    let path = format!("/orders/{}/cancel", placed["order_id"].as_str().unwrap());
    let (status, answer) = post(&services, &path, Some(r#"{"reason":"bored"}"#)).await;
    assert_eq!(status, 400);
    assert_eq!(
        answer,
        json!({
            "error": "invalid_request",
            "field": "reason",
            "message": "`reason` must be one of \"customer_request\", \"payment_declined\", \
                        \"out_of_stock\", not \"bored\"",
        })
    );
    let (status, answer) = post(&services, &path, Some("[]")).await;
    assert_eq!(status, 400);
    assert_eq!(
        answer,
        json!({"error": "invalid_request", "field": "body", "message": cancel::CANCEL_BODY_SHAPE})
    );
    assert_eq!(shop.events.published().len(), 1, "only the OrderPlaced");
}

#[tokio::test]
async fn unknown_paths_and_methods_are_refused() {
    let shop = shop();
    let services = shop.services();
    let (status, answer) = read(&handle(api_request("GET", "/orders", None), &services).await);
    assert_eq!(status, 405);
    assert_eq!(
        answer,
        json!({"error": "method_not_allowed", "message": "`/orders` takes POST, not GET"})
    );
    let (status, _) = post(&services, "/basket", None).await;
    assert_eq!(status, 404);
    let (status, _) = post(&services, "/orders//cancel", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_named_stage_in_the_path_is_skipped() {
    let shop = shop();
    let mut request = api_request("POST", "/prod/orders", Some(TWO_MUGS_AND_A_TEAPOT));
    request.request_context.stage = Some("prod".into());

    let (status, answer) = read(&handle(request, &shop.services()).await);

    assert_eq!(status, 201, "{answer}");
}

/// A sink whose every publish fails.
struct BrokenSink;

#[async_trait]
impl EventSink for BrokenSink {
    async fn publish(&self, _envelope: Envelope<Value>) -> Result<(), BackendError> {
        Err(BackendError::new("event sink", "the topic answered 500"))
    }
}

#[tokio::test]
async fn when_the_event_cannot_be_published_the_order_is_undone_and_503_answered() {
    let shop = shop();
    let mut services = shop.services();
    services.events = Arc::new(BrokenSink);

    let (status, answer) = post(&services, "/orders", Some(TWO_MUGS_AND_A_TEAPOT)).await;

    assert_eq!(status, 503);
    assert_eq!(
        answer,
        json!({
            "error": "unavailable",
            "message": "the event sink is unavailable: the topic answered 500; nothing was \
                        done, send the request again",
        })
    );
    assert_eq!(shop.stock.available("mug-blue"), 5, "the hold was released");
    assert_eq!(shop.stock.available("teapot"), 1);
}

#[tokio::test]
async fn when_a_cancellation_cannot_be_published_the_order_stays_placed() {
    let shop = shop();
    let (_, placed) = post(&shop.services(), "/orders", Some(TWO_MUGS_AND_A_TEAPOT)).await;
    let order_id = placed["order_id"].as_str().unwrap().to_owned();
    let mut broken = shop.services();
    broken.events = Arc::new(BrokenSink);

    let path = format!("/orders/{order_id}/cancel");
    let (status, _) = post(&broken, &path, None).await;
    assert_eq!(status, 503);
    let order = shop.orders.get(&order_id).await.unwrap().unwrap();
    assert_eq!((order.status, order.sequence), (OrderStatus::Placed, 1));

    // The client's retry goes through, with the sequence the failed attempt would have had.
    let (status, _) = post(&shop.services(), &path, None).await;
    assert_eq!(status, 200);
    assert_eq!(shop.events.published()[1].sequence(), Some(2));
}

#[tokio::test]
async fn a_request_as_api_gateway_sends_it_is_answered_as_it_expects() {
    // An explicit route, a base64 body (API Gateway encodes bodies it deems binary).
    let body = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        r#"{"customer_id":"c","lines":[{"sku":"teapot","quantity":1}]}"#,
    );
    let payload = json!({
        "version": "2.0",
        "routeKey": "POST /orders",
        "rawPath": "/orders",
        "rawQueryString": "",
        "headers": {"content-type": "application/octet-stream", "host": "api.example.com"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": {"method": "POST", "path": "/orders", "protocol": "HTTP/1.1",
                     "sourceIp": "192.0.2.1", "userAgent": "curl/8"},
            "requestId": "req-1",
            "routeKey": "POST /orders",
            "stage": "$default",
            "time": "22/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1795341600000_i64,
        },
        "body": body,
        "isBase64Encoded": true,
    });
    let request: ApiGatewayV2httpRequest = serde_json::from_value(payload).unwrap();
    let shop = shop();

    let response = handle(request, &shop.services()).await;

    let wire = serde_json::to_value(&response).unwrap();
    assert_eq!(wire["statusCode"], 201);
    assert_eq!(wire["headers"]["content-type"], "application/json");
    assert_eq!(wire["isBase64Encoded"], false);
    let answer: Value = serde_json::from_str(wire["body"].as_str().unwrap()).unwrap();
    assert_eq!(answer["status"], "placed");
    assert_eq!(shop.stock.available("teapot"), 0);
}

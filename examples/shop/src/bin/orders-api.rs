//! The orders API Lambda function, behind an API Gateway HTTP API: [`shop::orders`].

fn main() -> Result<(), lambda_runtime::Error> {
    shop::orders::run()
}

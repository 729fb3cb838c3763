//! placeholder
/// Decodes one SQS record.
pub fn decode_sqs_record() {}

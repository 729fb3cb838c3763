//! placeholder
/// Decodes one SNS record.
pub fn decode_sns_record() {}

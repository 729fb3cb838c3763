//! Why an envelope could not be read or written.

use crate::DataError;

/// Why a message body is not a valid tidings envelope. Each message names the attribute and
/// the rule it broke, so that a dead-lettered message explains itself.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// The body is not JSON at all.
    #[error(
        "body is not valid JSON ({source}); tidings messages carry a CloudEvents 1.0 JSON envelope"
    )]
    NotJson {
        /// The JSON parser's error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// The body is JSON but not an object.
    #[error("body is JSON but not an object ({source}); a CloudEvents envelope is a JSON object")]
    NotAnObject {
        /// The JSON parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// A required attribute is absent.
    #[error("required CloudEvents attribute `{name}` is missing")]
    MissingAttribute {
        /// The attribute name.
        name: &'static str,
    },
    /// An attribute is present but breaks a rule.
    #[error("CloudEvents attribute `{name}` is invalid: it {rule}")]
    InvalidAttribute {
        /// The attribute name.
        name: String,
        /// The rule it broke, phrased to follow "it".
        rule: &'static str,
    },
    /// An attribute appears twice in the JSON object.
    #[error(
        "CloudEvents attribute `{name}` appears more than once; each attribute may appear once"
    )]
    DuplicateAttribute {
        /// The attribute name.
        name: String,
    },
    /// `specversion` is not 1.0.
    #[error("`specversion` is \"{found}\" but tidings reads CloudEvents \"1.0\" only")]
    UnsupportedSpecVersion {
        /// The version found.
        found: String,
    },
    /// The envelope has no `data`.
    #[error(
        "the envelope has no `data` (or it is null); tidings events always carry their state in `data`"
    )]
    MissingData,
    /// The envelope carries binary data.
    #[error("the envelope carries `data_base64`; tidings events carry JSON in `data`")]
    Base64Data,
    /// The envelope's type is not the one the caller asked for.
    #[error("expected an event of type `{expected}` but the envelope's `type` is `{found}`")]
    UnexpectedType {
        /// The type the caller decodes.
        expected: &'static str,
        /// The type in the envelope.
        found: String,
    },
    /// The `data` could not become the typed event.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The envelope could not be serialized (the data's `Serialize` impl failed).
    #[error("the envelope could not be written as JSON: {source}")]
    Encode {
        /// The serializer's error.
        #[source]
        source: serde_json::Error,
    },
}

impl EnvelopeError {
    /// Classifies a parse error of the envelope object itself.
    pub(crate) fn from_json(source: serde_json::Error) -> Self {
        match source.classify() {
            serde_json::error::Category::Data => Self::NotAnObject { source },
            _ => Self::NotJson { source },
        }
    }

    /// The attribute this error is about, if it is about one.
    pub fn attribute(&self) -> Option<&str> {
        match self {
            Self::MissingAttribute { name } => Some(name),
            Self::InvalidAttribute { name, .. } | Self::DuplicateAttribute { name } => Some(name),
            Self::UnsupportedSpecVersion { .. } => Some("specversion"),
            Self::MissingData | Self::Base64Data | Self::Data(_) => Some("data"),
            Self::UnexpectedType { .. } => Some("type"),
            Self::NotJson { .. } | Self::NotAnObject { .. } | Self::Encode { .. } => None,
        }
    }
}

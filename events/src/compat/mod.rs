//! Compatibility check between published and current schemas.

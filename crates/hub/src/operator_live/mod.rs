//! The operators' live socket (`GET /v1/operators/live`, `tally_protocol::live`): once a second what this
//! hub is doing (`stats`, read from the numbers its `/metrics` renders) and the feed of transaction lines
//! in the operator's tenant as they are written or change (`feed`), narrowed by the console's filter.
//! `socket` runs one console's connection; the HTTP side (who may open one) is `http/live.rs`.
pub mod feed;
pub mod socket;
pub mod stats;

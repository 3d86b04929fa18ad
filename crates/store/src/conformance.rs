//! The behaviour every backend must show, as one suite run against each backend.

//! Test fixtures that pick the backend a test run asks for (filled in by the test-infra change).

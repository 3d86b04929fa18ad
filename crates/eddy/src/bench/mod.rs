//! `eddy bench`: load generators that drive any AWS-compatible endpoint and report what they saw.
//!
//! Layout: `sqs.rs` runs the producers and consumers, `sns.rs` publishes to a topic fanned
//! out to queues, `lambda.rs` measures functions and queue triggers, `client.rs` holds the
//! thin HTTP clients they share, `report.rs` prints the SQS figures and `process.rs` reads CPU
//! and memory from the kernel.

mod client;
mod lambda;
mod process;
mod report;
mod sns;
#[cfg(test)]
mod sns_tests;
mod sqs;
#[cfg(test)]
mod tests;

use clap::Subcommand;

pub use lambda::LambdaBenchArgs;
pub use sns::SnsBenchArgs;
pub use sqs::SqsBenchArgs;

/// The benchmarks `eddy bench` can run.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Drive an SQS endpoint (eddy, moto, LocalStack) with concurrent producers and consumers,
    /// over the AWS JSON 1.0 protocol, and check that every acknowledged message arrives once.
    Sqs(SqsBenchArgs),
    /// Measure what eddy adds to running a function: warm invoke overhead, cold start
    /// overhead, SendMessage → handler latency and event source mapping throughput.
    Lambda(LambdaBenchArgs),
    /// Publish to a topic fanned out to SQS queues: publish throughput with the server's CPU
    /// per publish and its deliveries, a check that every delivery arrived, and
    /// publish-to-visible latency.
    Sns(SnsBenchArgs),
}

/// Runs one benchmark command to completion and prints its report on stdout.
pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Sqs(args) => sqs::run(args).await,
        BenchCommand::Lambda(args) => lambda::run(args).await,
        BenchCommand::Sns(args) => sns::run(args).await,
    }
}

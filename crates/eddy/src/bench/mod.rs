//! `eddy bench`: load generators that drive any AWS-compatible endpoint and report what they saw.
//!
//! Layout: `sqs.rs` runs the producers and consumers, `lambda.rs` measures functions and
//! queue triggers, `client.rs` is the thin HTTP client they
//! share, `report.rs` prints the figures and `process.rs` reads CPU and memory from the kernel.

mod client;
mod lambda;
mod process;
mod report;
mod sqs;
#[cfg(test)]
mod tests;

use clap::Subcommand;

pub use lambda::LambdaBenchArgs;
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
}

/// Runs one benchmark command to completion and prints its report on stdout.
pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Sqs(args) => sqs::run(args).await,
        BenchCommand::Lambda(args) => lambda::run(args).await,
    }
}

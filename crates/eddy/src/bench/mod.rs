//! `eddy bench`: load generators that drive any AWS-compatible endpoint and report throughput.

use clap::{Args, Subcommand};

/// The benchmarks `eddy bench` can run.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Drive an SQS endpoint (eddy, moto, LocalStack) with concurrent producers and consumers.
    Sqs(SqsBenchArgs),
}

/// Options of `eddy bench sqs`.
#[derive(Debug, Args)]
pub struct SqsBenchArgs {
    /// Base URL of the SQS endpoint.
    #[arg(long, default_value = "http://127.0.0.1:4566")]
    pub endpoint: String,
}

/// Runs one benchmark command to completion and prints its report.
pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Sqs(args) => {
            anyhow::bail!("bench sqs against {} is not built yet", args.endpoint)
        }
    }
}

//! Amazon Resource Names of queues: `arn:<partition>:sqs:<region>:<account>:<name>`.

use super::types::QueueRef;

/// The parts of an ARN that eddy reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Arn<'a> {
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

pub(crate) fn parse(arn: &str) -> Option<Arn<'_>> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let partition = parts.next()?;
    let service = parts.next()?;
    let region = parts.next()?;
    let account = parts.next()?;
    let resource = parts.next()?;
    if partition.is_empty() || service.is_empty() || resource.is_empty() {
        return None;
    }
    Some(Arn {
        service,
        region,
        account,
        resource,
    })
}

/// The queue an SQS ARN names, if it is one.
pub(crate) fn queue_ref(arn: &str) -> Option<QueueRef> {
    let parsed = parse(arn)?;
    if parsed.service != "sqs" || parsed.account.is_empty() || parsed.resource.contains(':') {
        return None;
    }
    Some(QueueRef {
        account: parsed.account.to_string(),
        name: parsed.resource.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_arns_name_account_and_queue() {
        assert_eq!(
            queue_ref("arn:aws:sqs:us-east-1:000000000000:orders.fifo"),
            Some(QueueRef {
                account: "000000000000".to_string(),
                name: "orders.fifo".to_string()
            })
        );
        assert_eq!(queue_ref("arn:aws:sns:us-east-1:1:topic"), None);
        assert_eq!(queue_ref("dummy"), None);
    }
}

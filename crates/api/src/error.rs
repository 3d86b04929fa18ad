//! The api's one error enum and its one mapping to the wire: every failure a client can
//! see, engine errors included, gets its HTTP status, its JSON `__type`, its query-era
//! code and its fault side in the single exhaustive `match` of [`Error::wire`].

use std::borrow::Cow;

use http::StatusCode;

/// Everything a request can fail with, as seen by the HTTP layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The engine refused or failed the call.
    #[error(transparent)]
    Engine(#[from] engine::Error),
    /// A required member is absent (named as the model names it).
    #[error("The request must contain the parameter {0}.")]
    MissingParameter(String),
    /// A query-protocol value has the wrong type (e.g. a non-integer `DelaySeconds`).
    #[error("{0}")]
    InvalidParameterValue(String),
    /// The JSON body is not JSON, or a member has the wrong JSON type.
    #[error("{0}")]
    Serialization(String),
    /// The form body or query string is not valid `application/x-www-form-urlencoded`.
    #[error("{0}")]
    MalformedQueryString(String),
    /// An action or `X-Amz-Target` operation this service does not have.
    #[error(
        "The action or operation requested is invalid. Verify that the action is typed correctly."
    )]
    InvalidAction,
    /// A queue URL that cannot be parsed.
    #[error("The address {0} is not valid for this endpoint.")]
    InvalidAddress(String),
    /// The body is larger than the configured limit.
    #[error("Request entity too large.")]
    RequestTooLarge,
    /// Access keys are configured and the request carries no signature.
    #[error("Request is missing Authentication Token")]
    MissingAuthenticationToken,
    /// The signature names an access key eddy does not know.
    #[error("The security token included in the request is invalid.")]
    InvalidClientTokenId,
    /// The signature does not match the request.
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    )]
    SignatureDoesNotMatch,
    /// The `Authorization` header or presigned parameters are malformed.
    #[error("{0}")]
    IncompleteSignature(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How one error looks on the wire, for either protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    pub status: StatusCode,
    /// The JSON `__type`, with its namespace (`com.amazonaws.sqs#QueueDoesNotExist`).
    pub json_type: &'static str,
    /// The query-era code: the XML `<Code>` and the first half of `x-amzn-query-error`.
    pub query_code: &'static str,
    /// `Sender` (client's fault) or `Receiver`.
    pub sender_fault: bool,
    pub message: String,
}

impl WireError {
    pub fn fault(&self) -> &'static str {
        if self.sender_fault {
            "Sender"
        } else {
            "Receiver"
        }
    }
}

impl Error {
    /// The one mapping from an error to its wire form. Internal failures are logged here
    /// with their detail and reach the client as a generic message.
    pub fn wire(&self) -> WireError {
        use engine::Error as E;
        let message = || self.to_string();
        let (status, json_type, query_code, sender_fault, message): (
            StatusCode,
            &'static str,
            &'static str,
            bool,
            Cow<'_, str>,
        ) = match self {
            Error::Engine(engine_error) => match engine_error {
                E::QueueDoesNotExist => (
                    StatusCode::BAD_REQUEST,
                    "com.amazonaws.sqs#QueueDoesNotExist",
                    "AWS.SimpleQueueService.NonExistentQueue",
                    true,
                    message().into(),
                ),
                E::QueueNameExists(m) => (
                    StatusCode::BAD_REQUEST,
                    "com.amazonaws.sqs#QueueNameExists",
                    "QueueAlreadyExists",
                    true,
                    m.into(),
                ),
                E::QueueDeletedRecently(m) => (
                    StatusCode::BAD_REQUEST,
                    "com.amazonaws.sqs#QueueDeletedRecently",
                    "AWS.SimpleQueueService.QueueDeletedRecently",
                    true,
                    m.into(),
                ),
                E::InvalidAttributeName(m) => (
                    StatusCode::BAD_REQUEST,
                    "com.amazonaws.sqs#InvalidAttributeName",
                    "InvalidAttributeName",
                    true,
                    m.into(),
                ),
                E::InvalidAttributeValue(m) => (
                    StatusCode::BAD_REQUEST,
                    "com.amazonaws.sqs#InvalidAttributeValue",
                    "InvalidAttributeValue",
                    true,
                    m.into(),
                ),
                // SQS's JSON endpoint names the shape `…Exception` and puts the query
                // code in the header (recorded against AWS in LocalStack's snapshots).
                E::InvalidParameterValue(m) => (
                    StatusCode::BAD_REQUEST,
                    "com.amazonaws.sqs#InvalidParameterValueException",
                    "InvalidParameterValue",
                    true,
                    m.into(),
                ),
                E::MissingParameter(m) => (
                    StatusCode::BAD_REQUEST,
                    "com.amazonaws.sqs#MissingRequiredParameterException",
                    "MissingParameter",
                    true,
                    m.into(),
                ),
                E::ReceiptHandleIsInvalid(m) => (
                    StatusCode::BAD_REQUEST,
                    "com.amazonaws.sqs#ReceiptHandleIsInvalid",
                    "ReceiptHandleIsInvalid",
                    true,
                    m.into(),
                ),
                E::MessageNotInflight(m) => (
                    StatusCode::BAD_REQUEST,
                    "com.amazonaws.sqs#MessageNotInflight",
                    "AWS.SimpleQueueService.MessageNotInflight",
                    true,
                    m.into(),
                ),
                E::InvalidMessageContents(m) => (
                    StatusCode::BAD_REQUEST,
                    "com.amazonaws.sqs#InvalidMessageContents",
                    "InvalidMessageContents",
                    true,
                    m.into(),
                ),
                E::PurgeQueueInProgress(m) => (
                    StatusCode::FORBIDDEN,
                    "com.amazonaws.sqs#PurgeQueueInProgress",
                    "AWS.SimpleQueueService.PurgeQueueInProgress",
                    true,
                    m.into(),
                ),
                E::EmptyBatchRequest(m) => (
                    StatusCode::BAD_REQUEST,
                    "com.amazonaws.sqs#EmptyBatchRequest",
                    "AWS.SimpleQueueService.EmptyBatchRequest",
                    true,
                    m.into(),
                ),
                E::TooManyEntriesInBatchRequest(m) => (
                    StatusCode::BAD_REQUEST,
                    "com.amazonaws.sqs#TooManyEntriesInBatchRequest",
                    "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
                    true,
                    m.into(),
                ),
                E::BatchEntryIdsNotDistinct(m) => (
                    StatusCode::BAD_REQUEST,
                    "com.amazonaws.sqs#BatchEntryIdsNotDistinct",
                    "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
                    true,
                    m.into(),
                ),
                E::InvalidBatchEntryId(m) => (
                    StatusCode::BAD_REQUEST,
                    "com.amazonaws.sqs#InvalidBatchEntryId",
                    "AWS.SimpleQueueService.InvalidBatchEntryId",
                    true,
                    m.into(),
                ),
                E::BatchRequestTooLong(m) => (
                    StatusCode::BAD_REQUEST,
                    "com.amazonaws.sqs#BatchRequestTooLong",
                    "AWS.SimpleQueueService.BatchRequestTooLong",
                    true,
                    m.into(),
                ),
                E::OverLimit(m) => (
                    StatusCode::FORBIDDEN,
                    "com.amazonaws.sqs#OverLimit",
                    "OverLimit",
                    true,
                    m.into(),
                ),
                E::ResourceNotFound(m) => (
                    StatusCode::NOT_FOUND,
                    "com.amazonaws.sqs#ResourceNotFoundException",
                    "ResourceNotFoundException",
                    true,
                    m.into(),
                ),
                E::UnsupportedOperation(m) => (
                    StatusCode::BAD_REQUEST,
                    "com.amazonaws.sqs#UnsupportedOperation",
                    "AWS.SimpleQueueService.UnsupportedOperation",
                    true,
                    m.into(),
                ),
                E::NoSuchEntity(m) => (
                    StatusCode::NOT_FOUND,
                    "com.amazonaws.iam#NoSuchEntityException",
                    "NoSuchEntity",
                    true,
                    m.into(),
                ),
                E::EntityAlreadyExists(m) => (
                    StatusCode::CONFLICT,
                    "com.amazonaws.iam#EntityAlreadyExistsException",
                    "EntityAlreadyExists",
                    true,
                    m.into(),
                ),
                E::DeleteConflict(m) => (
                    StatusCode::CONFLICT,
                    "com.amazonaws.iam#DeleteConflictException",
                    "DeleteConflict",
                    true,
                    m.into(),
                ),
                E::MalformedPolicyDocument(m) => (
                    StatusCode::BAD_REQUEST,
                    "com.amazonaws.iam#MalformedPolicyDocumentException",
                    "MalformedPolicyDocument",
                    true,
                    m.into(),
                ),
                E::ValidationError(m) => (
                    StatusCode::BAD_REQUEST,
                    "com.amazonaws.iam#ValidationError",
                    "ValidationError",
                    true,
                    m.into(),
                ),
                E::InvalidInput(m) => (
                    StatusCode::BAD_REQUEST,
                    "com.amazonaws.iam#InvalidInputException",
                    "InvalidInput",
                    true,
                    m.into(),
                ),
                E::LimitExceeded(m) => (
                    StatusCode::CONFLICT,
                    "com.amazonaws.iam#LimitExceededException",
                    "LimitExceeded",
                    true,
                    m.into(),
                ),
                E::FunctionNotFound(m) => (
                    StatusCode::NOT_FOUND,
                    "com.amazonaws.lambda#ResourceNotFoundException",
                    "ResourceNotFoundException",
                    true,
                    m.into(),
                ),
                E::ResourceConflict(m) => (
                    StatusCode::CONFLICT,
                    "com.amazonaws.lambda#ResourceConflictException",
                    "ResourceConflictException",
                    true,
                    m.into(),
                ),
                E::LambdaInvalidParameterValue(m) => (
                    StatusCode::BAD_REQUEST,
                    "com.amazonaws.lambda#InvalidParameterValueException",
                    "InvalidParameterValueException",
                    true,
                    m.into(),
                ),
                E::LambdaValidation(m) => (
                    StatusCode::BAD_REQUEST,
                    "com.amazonaws.lambda#ValidationException",
                    "ValidationException",
                    true,
                    m.into(),
                ),
                E::PreconditionFailed(m) => (
                    StatusCode::PRECONDITION_FAILED,
                    "com.amazonaws.lambda#PreconditionFailedException",
                    "PreconditionFailedException",
                    true,
                    m.into(),
                ),
                E::LambdaRequestTooLarge(m) => (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "com.amazonaws.lambda#RequestTooLargeException",
                    "RequestTooLargeException",
                    true,
                    m.into(),
                ),
                E::InvalidRequestContent(m) => (
                    StatusCode::BAD_REQUEST,
                    "com.amazonaws.lambda#InvalidRequestContentException",
                    "InvalidRequestContentException",
                    true,
                    m.into(),
                ),
                E::TooManyRequests(_) => (
                    StatusCode::TOO_MANY_REQUESTS,
                    "com.amazonaws.lambda#TooManyRequestsException",
                    "TooManyRequestsException",
                    true,
                    "Rate Exceeded.".into(),
                ),
                E::LambdaService(detail) => {
                    tracing::error!(error = %detail, "lambda service failure");
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "com.amazonaws.lambda#ServiceException",
                        "ServiceException",
                        false,
                        "An internal error occurred.".into(),
                    )
                }
                // CloudWatch Logs answers its errors with 400, `ResourceNotFoundException`
                // included.
                E::LogsResourceNotFound(m) => (
                    StatusCode::BAD_REQUEST,
                    "ResourceNotFoundException",
                    "ResourceNotFoundException",
                    true,
                    m.into(),
                ),
                E::SnsInvalidParameter(m) => (
                    StatusCode::BAD_REQUEST,
                    "InvalidParameter",
                    "InvalidParameter",
                    true,
                    m.into(),
                ),
                // SNS's InvalidParameterValueException travels as `ParameterValueInvalid`
                // (recorded against AWS in LocalStack's snapshots).
                E::SnsInvalidParameterValue(m) => (
                    StatusCode::BAD_REQUEST,
                    "InvalidParameterValue",
                    "ParameterValueInvalid",
                    true,
                    m.into(),
                ),
                E::SnsNotFound(m) => (
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    "NotFound",
                    true,
                    m.into(),
                ),
                E::SnsResourceNotFound(m) => (
                    StatusCode::NOT_FOUND,
                    "ResourceNotFound",
                    "ResourceNotFound",
                    true,
                    m.into(),
                ),
                E::SnsAuthorizationError(m) => (
                    StatusCode::FORBIDDEN,
                    "AuthorizationError",
                    "AuthorizationError",
                    true,
                    m.into(),
                ),
                E::SnsTagLimitExceeded(m) => (
                    StatusCode::BAD_REQUEST,
                    "TagLimitExceeded",
                    "TagLimitExceeded",
                    true,
                    m.into(),
                ),
                E::SnsEmptyBatchRequest(m) => (
                    StatusCode::BAD_REQUEST,
                    "EmptyBatchRequest",
                    "EmptyBatchRequest",
                    true,
                    m.into(),
                ),
                E::SnsTooManyEntriesInBatchRequest(m) => (
                    StatusCode::BAD_REQUEST,
                    "TooManyEntriesInBatchRequest",
                    "TooManyEntriesInBatchRequest",
                    true,
                    m.into(),
                ),
                E::SnsBatchEntryIdsNotDistinct(m) => (
                    StatusCode::BAD_REQUEST,
                    "BatchEntryIdsNotDistinct",
                    "BatchEntryIdsNotDistinct",
                    true,
                    m.into(),
                ),
                E::SnsInvalidBatchEntryId(m) => (
                    StatusCode::BAD_REQUEST,
                    "InvalidBatchEntryId",
                    "InvalidBatchEntryId",
                    true,
                    m.into(),
                ),
                E::SnsBatchRequestTooLong(m) => (
                    StatusCode::BAD_REQUEST,
                    "BatchRequestTooLong",
                    "BatchRequestTooLong",
                    true,
                    m.into(),
                ),
                E::LogsInvalidParameter(m) => (
                    StatusCode::BAD_REQUEST,
                    "InvalidParameterException",
                    "InvalidParameterException",
                    true,
                    m.into(),
                ),
                E::Store(detail) if detail.is_unavailable() => {
                    // The database is down or unreachable: nothing was changed, and the
                    // SDKs retry a 503 ServiceUnavailable by themselves.
                    tracing::warn!(error = %detail, "store unavailable");
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "com.amazonaws.sqs#ServiceUnavailable",
                        "ServiceUnavailable",
                        false,
                        "The request has failed due to a temporary failure of the server.".into(),
                    )
                }
                E::Store(detail) => {
                    tracing::error!(error = %detail, "store failure");
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "com.amazonaws.sqs#InternalError",
                        "InternalError",
                        false,
                        "We encountered an internal error. Please try again.".into(),
                    )
                }
            },
            Error::MissingParameter(_) => (
                StatusCode::BAD_REQUEST,
                "com.amazonaws.sqs#MissingRequiredParameterException",
                "MissingParameter",
                true,
                message().into(),
            ),
            Error::InvalidParameterValue(m) => (
                StatusCode::BAD_REQUEST,
                "com.amazonaws.sqs#InvalidParameterValueException",
                "InvalidParameterValue",
                true,
                m.into(),
            ),
            Error::Serialization(m) => (
                StatusCode::BAD_REQUEST,
                "com.amazon.coral.service#SerializationException",
                "SerializationException",
                true,
                m.into(),
            ),
            Error::MalformedQueryString(m) => (
                StatusCode::BAD_REQUEST,
                "com.amazonaws.sqs#MalformedQueryString",
                "MalformedQueryString",
                true,
                m.into(),
            ),
            Error::InvalidAction => (
                StatusCode::BAD_REQUEST,
                "com.amazon.coral.service#UnknownOperationException",
                "InvalidAction",
                true,
                message().into(),
            ),
            Error::InvalidAddress(_) => (
                StatusCode::NOT_FOUND,
                "com.amazonaws.sqs#InvalidAddress",
                "InvalidAddress",
                true,
                message().into(),
            ),
            Error::RequestTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "com.amazonaws.sqs#RequestEntityTooLarge",
                "RequestEntityTooLarge",
                true,
                message().into(),
            ),
            Error::MissingAuthenticationToken => (
                StatusCode::FORBIDDEN,
                "com.amazon.coral.service#MissingAuthenticationTokenException",
                "MissingAuthenticationToken",
                true,
                message().into(),
            ),
            Error::InvalidClientTokenId => (
                StatusCode::FORBIDDEN,
                "com.amazon.coral.service#InvalidClientTokenId",
                "InvalidClientTokenId",
                true,
                message().into(),
            ),
            Error::SignatureDoesNotMatch => (
                StatusCode::FORBIDDEN,
                "com.amazon.coral.service#SignatureDoesNotMatch",
                "SignatureDoesNotMatch",
                true,
                message().into(),
            ),
            Error::IncompleteSignature(m) => (
                StatusCode::BAD_REQUEST,
                "com.amazon.coral.service#IncompleteSignatureException",
                "IncompleteSignature",
                true,
                m.into(),
            ),
        };
        WireError {
            status,
            json_type,
            query_code,
            sender_fault,
            message: message.into_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_does_not_exist_maps_to_query_compatible_code() {
        let wire = Error::Engine(engine::Error::QueueDoesNotExist).wire();
        assert_eq!(wire.status, StatusCode::BAD_REQUEST);
        assert_eq!(wire.json_type, "com.amazonaws.sqs#QueueDoesNotExist");
        assert_eq!(wire.query_code, "AWS.SimpleQueueService.NonExistentQueue");
        assert_eq!(wire.fault(), "Sender");
        assert_eq!(wire.message, "The specified queue does not exist.");
    }

    #[test]
    fn purge_in_progress_and_over_limit_are_forbidden() {
        let purge = Error::Engine(engine::Error::PurgeQueueInProgress("x".into())).wire();
        assert_eq!(purge.status, StatusCode::FORBIDDEN);
        let over = Error::Engine(engine::Error::OverLimit("x".into())).wire();
        assert_eq!(over.status, StatusCode::FORBIDDEN);
        assert_eq!(over.query_code, "OverLimit");
    }

    #[test]
    fn missing_parameter_names_the_parameter() {
        let wire = Error::MissingParameter("QueueUrl".into()).wire();
        assert_eq!(wire.query_code, "MissingParameter");
        assert_eq!(
            wire.message,
            "The request must contain the parameter QueueUrl."
        );
    }

    #[test]
    fn invalid_action_has_the_aws_message() {
        let wire = Error::InvalidAction.wire();
        assert_eq!(wire.status, StatusCode::BAD_REQUEST);
        assert_eq!(wire.query_code, "InvalidAction");
        assert_eq!(
            wire.message,
            "The action or operation requested is invalid. Verify that the action is typed correctly."
        );
    }
}

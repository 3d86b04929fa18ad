//! The engine's one error enum. Each variant is one AWS error; the api crate maps every
//! variant to its HTTP status and wire code in one exhaustive `match`. The `String`s are
//! the messages AWS gives, written by the engine where the failure is found.

/// Everything an engine call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `AWS.SimpleQueueService.NonExistentQueue` / `QueueDoesNotExist`.
    #[error("The specified queue does not exist.")]
    QueueDoesNotExist,
    /// `QueueAlreadyExists` / `QueueNameExists`: same name, different attributes.
    #[error("{0}")]
    QueueNameExists(String),
    /// `AWS.SimpleQueueService.QueueDeletedRecently`.
    #[error("{0}")]
    QueueDeletedRecently(String),
    #[error("{0}")]
    InvalidAttributeName(String),
    #[error("{0}")]
    InvalidAttributeValue(String),
    /// `InvalidParameterValue`: also what SQS answers for a too-long message.
    #[error("{0}")]
    InvalidParameterValue(String),
    #[error("{0}")]
    MissingParameter(String),
    #[error("{0}")]
    ReceiptHandleIsInvalid(String),
    /// `AWS.SimpleQueueService.MessageNotInflight`.
    #[error("{0}")]
    MessageNotInflight(String),
    #[error("{0}")]
    InvalidMessageContents(String),
    /// `AWS.SimpleQueueService.PurgeQueueInProgress`.
    #[error("{0}")]
    PurgeQueueInProgress(String),
    /// `AWS.SimpleQueueService.EmptyBatchRequest`.
    #[error("{0}")]
    EmptyBatchRequest(String),
    /// `AWS.SimpleQueueService.TooManyEntriesInBatchRequest`.
    #[error("{0}")]
    TooManyEntriesInBatchRequest(String),
    /// `AWS.SimpleQueueService.BatchEntryIdsNotDistinct`.
    #[error("{0}")]
    BatchEntryIdsNotDistinct(String),
    /// `AWS.SimpleQueueService.InvalidBatchEntryId`.
    #[error("{0}")]
    InvalidBatchEntryId(String),
    /// `AWS.SimpleQueueService.BatchRequestTooLong`.
    #[error("{0}")]
    BatchRequestTooLong(String),
    #[error("{0}")]
    OverLimit(String),
    /// `ResourceNotFoundException` (message move tasks).
    #[error("{0}")]
    ResourceNotFound(String),
    /// `AWS.SimpleQueueService.UnsupportedOperation`.
    #[error("{0}")]
    UnsupportedOperation(String),
    /// IAM `NoSuchEntity`: a role, inline policy or attachment that does not exist.
    #[error("{0}")]
    NoSuchEntity(String),
    /// IAM `EntityAlreadyExists`.
    #[error("{0}")]
    EntityAlreadyExists(String),
    /// IAM `DeleteConflict`: a role that still has policies.
    #[error("{0}")]
    DeleteConflict(String),
    /// IAM `MalformedPolicyDocument`: a document that is not a JSON object.
    #[error("{0}")]
    MalformedPolicyDocument(String),
    /// IAM `ValidationError`: a value breaks a parameter's length, range or pattern.
    #[error("{0}")]
    ValidationError(String),
    /// IAM `InvalidInput`: for example an ARN that is not one.
    #[error("{0}")]
    InvalidInput(String),
    /// IAM `LimitExceeded`.
    #[error("{0}")]
    LimitExceeded(String),
    /// Lambda `ResourceNotFoundException` (a function; named apart from SQS's).
    #[error("{0}")]
    FunctionNotFound(String),
    /// Lambda `ResourceConflictException`: a duplicate create, an update in progress.
    #[error("{0}")]
    ResourceConflict(String),
    /// Lambda `InvalidParameterValueException`.
    #[error("{0}")]
    LambdaInvalidParameterValue(String),
    /// Lambda `ValidationException`: a member breaks its range or pattern.
    #[error("{0}")]
    LambdaValidation(String),
    /// Lambda `PreconditionFailedException`: a `RevisionId` that is not the latest.
    #[error("{0}")]
    PreconditionFailed(String),
    /// Lambda `RequestTooLargeException`.
    #[error("{0}")]
    LambdaRequestTooLarge(String),
    /// Lambda `InvalidRequestContentException`: an Invoke payload that is not JSON.
    #[error("{0}")]
    InvalidRequestContent(String),
    /// Lambda `TooManyRequestsException`: no concurrency left for the invocation.
    #[error("Rate Exceeded.")]
    TooManyRequests(crate::lambda::Throttled),
    /// Lambda `ServiceException`: eddy could not run the function (e.g. unpack its code).
    #[error("{0}")]
    LambdaService(String),
    /// CloudWatch Logs `ResourceNotFoundException`: a log group or stream that does not exist.
    #[error("{0}")]
    LogsResourceNotFound(String),
    /// CloudWatch Logs `InvalidParameterException`: a bad parameter or parameter combination.
    #[error("{0}")]
    LogsInvalidParameter(String),
    /// SNS `InvalidParameter` (400): a parameter is missing, malformed or not allowed.
    #[error("{0}")]
    SnsInvalidParameter(String),
    /// SNS `InvalidParameterValue` (400): a value (e.g. a message attribute) is invalid.
    #[error("{0}")]
    SnsInvalidParameterValue(String),
    /// SNS `NotFound` (404): the topic, subscription or token does not exist.
    #[error("{0}")]
    SnsNotFound(String),
    /// SNS `ResourceNotFound` (404): tagging a resource that does not exist.
    #[error("{0}")]
    SnsResourceNotFound(String),
    /// SNS `AuthorizationError` (403): the caller may not act on this resource.
    #[error("{0}")]
    SnsAuthorizationError(String),
    /// SNS `TagLimitExceeded` (400): more than 50 tags on a resource.
    #[error("{0}")]
    SnsTagLimitExceeded(String),
    /// SNS `EmptyBatchRequest` (400).
    #[error("{0}")]
    SnsEmptyBatchRequest(String),
    /// SNS `TooManyEntriesInBatchRequest` (400).
    #[error("{0}")]
    SnsTooManyEntriesInBatchRequest(String),
    /// SNS `BatchEntryIdsNotDistinct` (400).
    #[error("{0}")]
    SnsBatchEntryIdsNotDistinct(String),
    /// SNS `InvalidBatchEntryId` (400).
    #[error("{0}")]
    SnsInvalidBatchEntryId(String),
    /// SNS `BatchRequestTooLong` (400).
    #[error("{0}")]
    SnsBatchRequestTooLong(String),
    /// The store failed; the client sees a generic internal error, the log the detail.
    #[error("store: {0}")]
    Store(#[from] store::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

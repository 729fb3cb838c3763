//! The DynamoDB store (feature `dynamodb`): idempotency records and subject sequences in one
//! table, with the attribute layout of the Powertools idempotency table.
//!
//! | attribute | item | meaning |
//! |---|---|---|
//! | `id` (partition key) | both | `{function}#{handler}#{key}`, or `…#subject#{subject}` |
//! | `status` | record | `INPROGRESS` or `COMPLETED` |
//! | `expiration` | record | epoch seconds: the table's TTL attribute |
//! | `in_progress_expiration` | record | epoch milliseconds: when an unfinished lock lapses |
//! | `validation` | record | XXH3-128 of the event data, to catch a reused key |
//! | `lock_owner` | both | the fencing token of the claim holding the lock |
//! | `sequence` | subject | the mark: the newest sequence claimed, whose effect may have been applied |
//! | `lock_holder` | subject | the key of the event that set the mark, until it completes |
//! | `lock_until` | subject | when the subject's lock lapses |
//!
//! Completions and releases are conditional on `lock_owner`, so a write that lands after its
//! lock was taken over (a timed-out request the service still applied) is refused.
//!
//! Every decision is a conditional write; nothing is read and compared in code, because
//! concurrent Lambdas race. A failed condition returns the old item
//! (`ReturnValuesOnConditionCheckFailure = ALL_OLD`), which says why without another read.
//! The requests for the records of a batch are sent together, so a batch costs one
//! sequential round trip per phase (claim, complete/release) whatever its size.
//!
//! Expiry is judged from timestamps in the conditions, never from TTL deletion, which lags.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, CancellationReason, KeySchemaElement,
    KeyType, Put, ReturnValuesOnConditionCheckFailure, ScalarAttributeType,
    TimeToLiveSpecification, TransactWriteItem, Update,
};
use futures_util::future::join_all;
use std::collections::HashMap;

use super::{Claim, ClaimOutcome, Completion, EpochMillis, LockOwner, Release, Store, StoreError};

type Item = HashMap<String, AttributeValue>;

const IN_PROGRESS: &str = "INPROGRESS";
const COMPLETED: &str = "COMPLETED";

/// The attribute names of the table. The defaults are those of the Powertools idempotency
/// table, so an existing table and its IAM policies carry over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeNames {
    /// The partition key (string).
    pub key: String,
    /// `INPROGRESS` or `COMPLETED`.
    pub status: String,
    /// The TTL attribute, epoch seconds.
    pub expiration: String,
    /// When an in-progress lock lapses, epoch milliseconds.
    pub in_progress_expiration: String,
    /// The payload hash.
    pub validation: String,
    /// The fencing token of the claim that holds a record's or a subject's lock.
    pub lock_owner: String,
    /// A subject's mark: the newest sequence claimed.
    pub sequence: String,
    /// The key of the event that set a subject's mark, until it completes.
    pub lock_holder: String,
    /// When a subject's lock lapses, epoch milliseconds.
    pub lock_until: String,
}

impl Default for AttributeNames {
    fn default() -> Self {
        Self {
            key: "id".into(),
            status: "status".into(),
            expiration: "expiration".into(),
            in_progress_expiration: "in_progress_expiration".into(),
            validation: "validation".into(),
            lock_owner: "lock_owner".into(),
            sequence: "sequence".into(),
            lock_holder: "lock_holder".into(),
            lock_until: "lock_until".into(),
        }
    }
}

/// A [`Store`] on one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoDbStore {
    client: Client,
    table: String,
    names: AttributeNames,
}

impl DynamoDbStore {
    /// A store on `table` through `client`, with the Powertools attribute names.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            names: AttributeNames::default(),
        }
    }

    /// Uses other attribute names.
    pub fn with_attribute_names(mut self, names: AttributeNames) -> Self {
        self.names = names;
        self
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The DynamoDB client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Creates the table (on-demand capacity, TTL on the expiration attribute) if it does
    /// not exist: for local runs and tests; deployments create it in their template.
    pub async fn create_table_if_missing(&self) -> Result<(), StoreError> {
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(&self.names.key)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(|e| StoreError::Refused(e.to_string()))?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(&self.names.key)
                    .key_type(KeyType::Hash)
                    .build()
                    .map_err(|e| StoreError::Refused(e.to_string()))?,
            )
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(error) if error.code() == Some("ResourceInUseException") => return Ok(()),
            Err(error) => return Err(store_error(error)),
        }
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name(&self.names.expiration)
                    .build()
                    .map_err(|e| StoreError::Refused(e.to_string()))?,
            )
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    /// The condition under which a claim may write the idempotency record: none exists, or
    /// it expired, or it is an in-progress lock that lapsed.
    fn record_free_condition(&self) -> &'static str {
        "attribute_not_exists(#key) OR #expiration < :now_s OR \
         (#status = :in_progress AND #in_progress_expiration < :now_ms)"
    }

    fn record_names(&self) -> HashMap<String, String> {
        let n = &self.names;
        HashMap::from([
            ("#key".into(), n.key.clone()),
            ("#status".into(), n.status.clone()),
            ("#expiration".into(), n.expiration.clone()),
            (
                "#in_progress_expiration".into(),
                n.in_progress_expiration.clone(),
            ),
        ])
    }

    /// Names and values of the condition that `owner` holds the in-progress lock.
    fn owned_condition(&self, owner: &LockOwner) -> (HashMap<String, String>, Item) {
        let n = &self.names;
        (
            HashMap::from([
                ("#status".to_owned(), n.status.clone()),
                ("#owner".to_owned(), n.lock_owner.clone()),
            ]),
            HashMap::from([
                (":in_progress".to_owned(), s(IN_PROGRESS)),
                (":owner".to_owned(), s(owner.as_str())),
            ]),
        )
    }

    fn subject_names(&self) -> HashMap<String, String> {
        let n = &self.names;
        HashMap::from([
            ("#sequence".into(), n.sequence.clone()),
            ("#holder".into(), n.lock_holder.clone()),
            ("#owner".into(), n.lock_owner.clone()),
            ("#until".into(), n.lock_until.clone()),
        ])
    }

    fn lock_item(&self, claim: &Claim, now: EpochMillis) -> Item {
        let n = &self.names;
        // An abandoned lock's item is removed by TTL some time after it lapses; the
        // condition above, not TTL, decides when it stops counting.
        let ttl_s = claim.lock_expires_at.max(now) / 1000 + 3600;
        HashMap::from([
            (n.key.clone(), s(&claim.key)),
            (n.status.clone(), s(IN_PROGRESS)),
            (
                n.in_progress_expiration.clone(),
                number(claim.lock_expires_at),
            ),
            (n.expiration.clone(), number(ttl_s)),
            (n.validation.clone(), s(&claim.payload_hash)),
            (n.lock_owner.clone(), s(claim.owner.as_str())),
        ])
    }

    async fn claim_one(&self, claim: &Claim, now: EpochMillis) -> Result<ClaimOutcome, StoreError> {
        let values = HashMap::from([
            (":now_s".to_owned(), number(now / 1000)),
            (":now_ms".to_owned(), number(now)),
            (":in_progress".to_owned(), s(IN_PROGRESS)),
        ]);
        let Some(ordering) = &claim.ordering else {
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(self.lock_item(claim, now)))
                .condition_expression(self.record_free_condition())
                .set_expression_attribute_names(Some(self.record_names()))
                .set_expression_attribute_values(Some(values))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            return match put {
                Ok(_) => Ok(ClaimOutcome::Acquired),
                Err(error) => match error.as_service_error() {
                    Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                        Ok(self.record_refusal(claim, failed.item()))
                    }
                    _ => Err(store_error(error)),
                },
            };
        };

        // The record and the subject are taken together or not at all. The subject's mark
        // moves to this sequence now, at claim time: whatever fails after the handler ran,
        // no older event can be claimed again. The same event may retake its own
        // unfinished mark (the record's condition says no live delivery of it holds a lock).
        let subject_values = HashMap::from([
            (":sequence".to_owned(), number(ordering.sequence)),
            (":holder".to_owned(), s(&claim.key)),
            (":owner".to_owned(), s(claim.owner.as_str())),
            (":until".to_owned(), number(claim.lock_expires_at)),
            (":now_ms".to_owned(), number(now)),
        ]);
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(self.lock_item(claim, now)))
            .condition_expression(self.record_free_condition())
            .set_expression_attribute_names(Some(self.record_names()))
            .set_expression_attribute_values(Some(values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(|e| StoreError::Refused(e.to_string()))?;
        let lock_subject = Update::builder()
            .table_name(&self.table)
            .key(&self.names.key, s(&ordering.subject))
            .update_expression(
                "SET #sequence = :sequence, #holder = :holder, #owner = :owner, #until = :until",
            )
            .condition_expression(
                "(attribute_not_exists(#sequence) OR #sequence < :sequence \
                  OR (#sequence = :sequence AND #holder = :holder)) \
                 AND (attribute_not_exists(#until) OR #until < :now_ms OR #holder = :holder)",
            )
            .set_expression_attribute_names(Some(self.subject_names()))
            .set_expression_attribute_values(Some(subject_values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(|e| StoreError::Refused(e.to_string()))?;
        let written = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build())
            .transact_items(TransactWriteItem::builder().update(lock_subject).build())
            .send()
            .await;
        match written {
            Ok(_) => Ok(ClaimOutcome::Acquired),
            Err(error) => match error.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => self
                    .transaction_refusal(
                        claim,
                        ordering.sequence,
                        cancelled.cancellation_reasons(),
                    ),
                _ => Err(store_error(error)),
            },
        }
    }

    /// Why an idempotency record could not be taken, from the item that stopped it.
    fn record_refusal(&self, claim: &Claim, old: Option<&Item>) -> ClaimOutcome {
        let n = &self.names;
        let Some(old) = old else {
            // The condition failed but the item vanished meanwhile (TTL): it is busy now
            // and free soon; a later delivery will find out.
            return ClaimOutcome::InProgress {
                until: claim.lock_expires_at,
            };
        };
        if text(old, &n.validation) != Some(claim.payload_hash.as_str()) {
            return ClaimOutcome::KeyReused;
        }
        if text(old, &n.status) == Some(IN_PROGRESS)
            && text(old, &n.lock_owner) == Some(claim.owner.as_str())
        {
            // This very claim, made again (the SDK retried a request whose first attempt was
            // applied): it holds the lock, and its subject was taken in the same write.
            return ClaimOutcome::Acquired;
        }
        match text(old, &n.status) {
            Some(COMPLETED) => ClaimOutcome::Completed,
            _ => ClaimOutcome::InProgress {
                until: integer(old, &n.in_progress_expiration).unwrap_or(claim.lock_expires_at),
            },
        }
    }

    fn transaction_refusal(
        &self,
        claim: &Claim,
        sequence: u64,
        reasons: &[CancellationReason],
    ) -> Result<ClaimOutcome, StoreError> {
        let failed = |reason: &CancellationReason| reason.code() == Some("ConditionalCheckFailed");
        match reasons {
            [record, _] if failed(record) => Ok(self.record_refusal(claim, record.item())),
            [_, subject] if failed(subject) => {
                let old = subject.item();
                let newest = old.and_then(|item| integer(item, &self.names.sequence));
                let own_mark = old.and_then(|item| text(item, &self.names.lock_holder))
                    == Some(claim.key.as_str());
                match newest {
                    Some(newest) if newest > sequence || (newest == sequence && !own_mark) => {
                        Ok(ClaimOutcome::NotNewer { newest })
                    }
                    _ => Ok(ClaimOutcome::SubjectBusy {
                        until: old
                            .and_then(|item| integer(item, &self.names.lock_until))
                            .unwrap_or(claim.lock_expires_at),
                    }),
                }
            }
            _ => Err(cancellation_error(reasons)),
        }
    }

    async fn complete_one(&self, completion: &Completion) -> Result<(), StoreError> {
        let n = &self.names;
        let (mut record_names, mut record_values) = self.owned_condition(&completion.owner);
        record_names.insert("#expiration".to_owned(), n.expiration.clone());
        record_values.insert(":completed".to_owned(), s(COMPLETED));
        // Rounded down, and compared with the current second: a completed record is
        // forgotten within a second after `expires_at`, never before.
        record_values.insert(
            ":expiration".to_owned(),
            number(completion.expires_at / 1000),
        );
        let update_record = "SET #status = :completed, #expiration = :expiration";
        let record_condition = "#status = :in_progress AND #owner = :owner";
        let Some(subject) = &completion.subject else {
            let updated = self
                .client
                .update_item()
                .table_name(&self.table)
                .key(&n.key, s(&completion.key))
                .update_expression(update_record)
                .condition_expression(record_condition)
                .set_expression_attribute_names(Some(record_names))
                .set_expression_attribute_values(Some(record_values))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            return match updated {
                Ok(_) => Ok(()),
                Err(error) => match error.as_service_error() {
                    Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                        self.completion_refusal(completion, failed.item())
                    }
                    _ => Err(store_error(error)),
                },
            };
        };
        // The completion and the end of the subject's lock are one transaction. The subject's
        // mark already stands at this sequence (set by the claim); completing only says the
        // event finished, so that its later copies are duplicates rather than retakes.
        let record = Update::builder()
            .table_name(&self.table)
            .key(&n.key, s(&completion.key))
            .update_expression(update_record)
            .condition_expression(record_condition)
            .set_expression_attribute_names(Some(record_names))
            .set_expression_attribute_values(Some(record_values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(|e| StoreError::Refused(e.to_string()))?;
        let subject = Update::builder()
            .table_name(&self.table)
            .key(&n.key, s(subject))
            .update_expression("REMOVE #holder, #owner, #until")
            .condition_expression("#owner = :owner")
            .expression_attribute_names("#holder", &n.lock_holder)
            .expression_attribute_names("#owner", &n.lock_owner)
            .expression_attribute_names("#until", &n.lock_until)
            .expression_attribute_values(":owner", s(completion.owner.as_str()))
            .build()
            .map_err(|e| StoreError::Refused(e.to_string()))?;
        let written = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(record).build())
            .transact_items(TransactWriteItem::builder().update(subject).build())
            .send()
            .await;
        match written {
            Ok(_) => Ok(()),
            Err(error) => match error.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled))
                    if cancelled
                        .cancellation_reasons()
                        .iter()
                        .any(|r| r.code() == Some("ConditionalCheckFailed")) =>
                {
                    let record = cancelled.cancellation_reasons().first();
                    self.completion_refusal(completion, record.and_then(|r| r.item()))
                }
                _ => Err(store_error(error)),
            },
        }
    }

    /// What a refused completion means, from the record as it was: already completed by
    /// this owner (an earlier attempt landed and its answer was lost) is success; anything
    /// else is a lock this owner no longer holds.
    fn completion_refusal(
        &self,
        completion: &Completion,
        old: Option<&Item>,
    ) -> Result<(), StoreError> {
        let n = &self.names;
        let completed_by_us = old.is_some_and(|old| {
            text(old, &n.status) == Some(COMPLETED)
                && text(old, &n.lock_owner) == Some(completion.owner.as_str())
        });
        if completed_by_us {
            Ok(())
        } else {
            Err(StoreError::LockLost(completion.key.clone()))
        }
    }

    async fn release_one(&self, release: &Release) -> Result<(), StoreError> {
        let n = &self.names;
        let lost = || StoreError::LockLost(release.key.clone());
        let record = async {
            let (names, values) = self.owned_condition(&release.owner);
            let deleted = self
                .client
                .delete_item()
                .table_name(&self.table)
                .key(&n.key, s(&release.key))
                .condition_expression("#status = :in_progress AND #owner = :owner")
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            match deleted {
                Ok(_) => Ok(()),
                Err(error) => match error.as_service_error() {
                    // Absent: released already, or never taken. Present: someone else's.
                    Some(DeleteItemError::ConditionalCheckFailedException(failed)) => {
                        match failed.item() {
                            None => Ok(()),
                            Some(_) => Err(lost()),
                        }
                    }
                    _ => Err(store_error(error)),
                },
            }
        };
        let subject = async {
            let Some(subject) = &release.subject else {
                return Ok(());
            };
            // Only the lock ends; the mark stays: the failed run may have applied its effect.
            let updated = self
                .client
                .update_item()
                .table_name(&self.table)
                .key(&n.key, s(subject))
                .update_expression("REMOVE #owner, #until")
                .condition_expression("#owner = :owner")
                .expression_attribute_names("#owner", &n.lock_owner)
                .expression_attribute_names("#until", &n.lock_until)
                .expression_attribute_values(":owner", s(release.owner.as_str()))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            match updated {
                Ok(_) => Ok(()),
                Err(error) => match error.as_service_error() {
                    Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                        // No lock on the subject: nothing to end. Another owner's: refused.
                        let other_owner = failed
                            .item()
                            .is_some_and(|old| text(old, &n.lock_owner).is_some());
                        if other_owner { Err(lost()) } else { Ok(()) }
                    }
                    _ => Err(store_error(error)),
                },
            }
        };
        let (record, subject) = futures_util::future::join(record, subject).await;
        record.and(subject)
    }
}

#[async_trait::async_trait]
impl Store for DynamoDbStore {
    async fn claim(
        &self,
        claims: &[Claim],
        now: EpochMillis,
    ) -> Vec<Result<ClaimOutcome, StoreError>> {
        // Claims of one batch that share a key or a subject must be answered in order, as
        // if one after the other; all others go out together.
        ordered_groups(
            claims,
            |claim| {
                let mut keys = vec![claim.key.clone()];
                keys.extend(claim.ordering.as_ref().map(|o| o.subject.clone()));
                keys
            },
            |claim| self.claim_one(claim, now),
        )
        .await
    }

    async fn complete(&self, completions: &[Completion]) -> Vec<Result<(), StoreError>> {
        join_all(completions.iter().map(|c| self.complete_one(c))).await
    }

    async fn release(&self, releases: &[Release]) -> Vec<Result<(), StoreError>> {
        join_all(releases.iter().map(|r| self.release_one(r))).await
    }
}

/// Runs `run` for every item; items sharing a key (directly, or through other items) run
/// one after the other in their order, all the rest concurrently. Answers in the order of
/// `items`.
async fn ordered_groups<'a, T, R, F>(
    items: &'a [T],
    keys: impl Fn(&T) -> Vec<String>,
    run: impl Fn(&'a T) -> F,
) -> Vec<R>
where
    F: std::future::Future<Output = R>,
{
    // Union-find over item indices: items that share any key end in one chain.
    let mut parent: Vec<usize> = (0..items.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut first_with_key: HashMap<String, usize> = HashMap::new();
    for (index, item) in items.iter().enumerate() {
        for key in keys(item) {
            match first_with_key.get(&key) {
                Some(&other) => {
                    let (a, b) = (root(&mut parent, other), root(&mut parent, index));
                    parent[a.max(b)] = a.min(b);
                }
                None => {
                    first_with_key.insert(key, index);
                }
            }
        }
    }
    let mut chains: HashMap<usize, Vec<usize>> = HashMap::new();
    for index in 0..items.len() {
        let chain = root(&mut parent, index);
        chains.entry(chain).or_default().push(index);
    }
    let run = &run;
    let answers = join_all(chains.into_values().map(|chain| async move {
        let mut answers = Vec::with_capacity(chain.len());
        for index in chain {
            answers.push((index, run(&items[index]).await));
        }
        answers
    }))
    .await;
    let mut ordered: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    for (index, answer) in answers.into_iter().flatten() {
        ordered[index] = Some(answer);
    }
    ordered
        .into_iter()
        .map(|a| a.expect("every item answered"))
        .collect()
}

/// The error of a transaction cancelled for another reason than a failed condition.
fn cancellation_error(reasons: &[CancellationReason]) -> StoreError {
    let codes: Vec<&str> = reasons.iter().filter_map(|r| r.code()).collect();
    let message = format!("transaction cancelled: {codes:?}");
    if codes
        .iter()
        .any(|c| c.contains("Throttl") || *c == "ProvisionedThroughputExceeded")
    {
        StoreError::Throttled(message)
    } else if codes.contains(&"TransactionConflict") {
        // Another delivery wrote one of the same items at the same moment: contention, not
        // an outage; the record is retried.
        StoreError::Contended(message)
    } else if codes.contains(&"ValidationError") {
        StoreError::Refused(message)
    } else {
        StoreError::Unavailable(message)
    }
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn number(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

fn integer(item: &Item, name: &str) -> Option<u64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
}

/// Sorts an SDK failure into the store's error kinds: throttling and unreachability pass,
/// everything else is a refusal that needs a person.
fn store_error<E: ProvideErrorMetadata + std::error::Error + 'static>(
    error: SdkError<E, HttpResponse>,
) -> StoreError {
    let message = aws_sdk_dynamodb::error::DisplayErrorContext(&error).to_string();
    match &error {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            StoreError::Unavailable(message)
        }
        SdkError::ServiceError(service) => match service.err().code() {
            Some(
                "ThrottlingException"
                | "ProvisionedThroughputExceededException"
                | "RequestLimitExceeded"
                | "LimitExceededException",
            ) => StoreError::Throttled(message),
            Some("InternalServerError" | "ServiceUnavailable") => StoreError::Unavailable(message),
            Some("TransactionConflictException" | "TransactionInProgressException") => {
                StoreError::Contended(message)
            }
            // A server error without a code (a 5xx from a proxy or an overloaded endpoint)
            // passes like any outage; only a 4xx is the caller's to fix.
            _ if service.raw().status().is_server_error() => StoreError::Unavailable(message),
            _ => StoreError::Refused(message),
        },
        _ => StoreError::Refused(message),
    }
}

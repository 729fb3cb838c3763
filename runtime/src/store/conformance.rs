//! Checks that any [`Store`] implementation must pass, so that every backend (memory, DynamoDB)
//! gives the pipeline the same answers.
//!
//! Each check is a plain `async fn` that panics with a message naming the rule broken. A
//! backend's tests call [`run_all`], or each check from its own `#[tokio::test]` to see every
//! failure separately. The module is public but hidden from the docs rather than behind a
//! cargo feature: it needs no dependency beyond the crate's own, its unused code never reaches
//! a Lambda binary, and a backend in another crate can run it without enabling anything. It is
//! test support, not a stable API.
//!
//! Every key and subject a check writes starts with the `namespace` it is given, so checks can
//! share one table, even with earlier runs' records still in it. Times are offsets from the
//! real clock, so that a backend whose records carry a real TTL does not delete them during
//! the check. Completed-record expiry is only checked with a margin of a second, since a
//! backend may keep it in epoch seconds (rounded up); lock expiry is checked to the
//! millisecond.

use std::sync::Arc;

use super::{
    Claim, ClaimOutcome, Completion, EpochMillis, Release, Store, StoreError, SubjectSequence,
    now_millis,
};

/// How long the checks' locks are held: long enough that no lock lapses by itself while a
/// check runs against a slow backend.
const LOCK: EpochMillis = 5 * 60 * 1000;

/// How long the checks' completed records live.
const TTL: EpochMillis = 60 * 60 * 1000;

/// Runs every check, each under its own part of `namespace`.
pub async fn run_all<S: Store + ?Sized>(store: Arc<S>, namespace: &str) {
    let ns = |check: &str| format!("{namespace}/{check}");
    acquires_absent_key(&*store, &ns("acquires_absent_key")).await;
    answers_completed_key(&*store, &ns("answers_completed_key")).await;
    completed_key_expires(&*store, &ns("completed_key_expires")).await;
    lapsed_lock_is_taken_over(&*store, &ns("lapsed_lock_is_taken_over")).await;
    key_reused_in_both_states(&*store, &ns("key_reused_in_both_states")).await;
    orders_by_subject_sequence(&*store, &ns("orders_by_subject_sequence")).await;
    subject_lock_lapses(&*store, &ns("subject_lock_lapses")).await;
    subject_never_moves_backwards(&*store, &ns("subject_never_moves_backwards")).await;
    claim_is_atomic(&*store, &ns("claim_is_atomic")).await;
    same_batch_collisions(&*store, &ns("same_batch_collisions")).await;
    completion_requires_lock(&*store, &ns("completion_requires_lock")).await;
    completion_frees_subject(&*store, &ns("completion_frees_subject")).await;
    release_is_idempotent(&*store, &ns("release_is_idempotent")).await;
    answers_in_order(&*store, &ns("answers_in_order")).await;
    concurrent_claims_have_one_winner(store, &ns("concurrent_claims_have_one_winner")).await;
}

/// An absent key is acquired; while its lock holds (up to and including `lock_expires_at`)
/// the same payload gets `InProgress` with the lock's end.
pub async fn acquires_absent_key<S: Store + ?Sized>(store: &S, ns: &str) {
    let t = now_millis();
    let key = name(ns, "key");
    let first = plain(&key, "h1", t + LOCK);
    expect_claim(store, &first, t, ClaimOutcome::Acquired, "an absent key").await;
    let again = plain(&key, "h1", t + 2 * LOCK);
    let held = ClaimOutcome::InProgress { until: t + LOCK };
    expect_claim(store, &again, t + 1, held.clone(), "a held key").await;
    expect_claim(store, &again, t + LOCK, held, "a key at its lock's end").await;
}

/// A completed key answers `Completed` to the same payload until it expires, whatever the
/// claim's ordering says.
pub async fn answers_completed_key<S: Store + ?Sized>(store: &S, ns: &str) {
    let t = now_millis();
    let key = name(ns, "key");
    let subject = name(ns, "subject");
    let claim = ordered(&key, "h1", t + LOCK, &subject, 5);
    expect_claim(store, &claim, t, ClaimOutcome::Acquired, "an absent key").await;
    expect_complete(
        store,
        done(&key, t + TTL, Some((&subject, 5))),
        "a held key",
    )
    .await;
    let completed = ClaimOutcome::Completed;
    expect_claim(store, &claim, t + 1, completed.clone(), "a completed key").await;
    expect_claim(store, &claim, t + TTL, completed, "a key at its expiry").await;
}

/// A completed key is forgotten after it expires: the same or another payload acquires it.
pub async fn completed_key_expires<S: Store + ?Sized>(store: &S, ns: &str) {
    let t = now_millis();
    for (part, hash) in [("same", "h1"), ("other", "h2")] {
        let key = name(ns, part);
        let claim = plain(&key, "h1", t + LOCK);
        expect_claim(store, &claim, t, ClaimOutcome::Acquired, "an absent key").await;
        expect_complete(store, done(&key, t + TTL, None), "a held key").await;
        let late = t + TTL + 1000;
        let retry = plain(&key, hash, late + LOCK);
        expect_claim(
            store,
            &retry,
            late,
            ClaimOutcome::Acquired,
            "an expired key",
        )
        .await;
    }
}

/// A lock its holder never completed nor released (the holder crashed) lapses after
/// `lock_expires_at`; the next claim takes it, whatever its payload.
pub async fn lapsed_lock_is_taken_over<S: Store + ?Sized>(store: &S, ns: &str) {
    let t = now_millis();
    for (part, hash) in [("same", "h1"), ("other", "h2")] {
        let key = name(ns, part);
        let crashed = plain(&key, "h1", t + LOCK);
        expect_claim(store, &crashed, t, ClaimOutcome::Acquired, "an absent key").await;
        let after = t + LOCK + 1;
        let takeover = plain(&key, hash, after + LOCK);
        let what = "a key whose lock lapsed";
        expect_claim(store, &takeover, after, ClaimOutcome::Acquired, what).await;
        let held = ClaimOutcome::InProgress {
            until: after + LOCK,
        };
        let what = "a key taken over: the new lock";
        expect_claim(store, &takeover, after + 1, held, what).await;
    }
}

/// A key claimed for another payload is `KeyReused`, whether in progress or completed.
pub async fn key_reused_in_both_states<S: Store + ?Sized>(store: &S, ns: &str) {
    let t = now_millis();
    let key = name(ns, "key");
    let claim = plain(&key, "h1", t + LOCK);
    let other = plain(&key, "h2", t + LOCK);
    expect_claim(store, &claim, t, ClaimOutcome::Acquired, "an absent key").await;
    let reused = ClaimOutcome::KeyReused;
    expect_claim(store, &other, t, reused.clone(), "a key in progress").await;
    expect_complete(store, done(&key, t + TTL, None), "a held key").await;
    expect_claim(store, &other, t, reused, "a completed key").await;
}

/// Under ordering, a subject admits one event at a time and only sequences above its newest
/// completed one: equal and lower sequences get `NotNewer` with the newest.
pub async fn orders_by_subject_sequence<S: Store + ?Sized>(store: &S, ns: &str) {
    let t = now_millis();
    let subject = name(ns, "subject");
    let [a, b, c, d, e] = ["a", "b", "c", "d", "e"].map(|part| name(ns, part));
    let five = ordered(&a, "h1", t + LOCK, &subject, 5);
    expect_claim(store, &five, t, ClaimOutcome::Acquired, "a new subject").await;
    let six = ordered(&b, "h1", t + LOCK, &subject, 6);
    let busy = ClaimOutcome::SubjectBusy { until: t + LOCK };
    expect_claim(store, &six, t, busy, "a subject locked by another key").await;
    expect_complete(store, done(&a, t + TTL, Some((&subject, 5))), "a held key").await;
    expect_claim(store, &six, t, ClaimOutcome::Acquired, "a newer sequence").await;
    expect_complete(store, done(&b, t + TTL, Some((&subject, 6))), "a held key").await;
    let not_newer = ClaimOutcome::NotNewer { newest: 6 };
    let equal = ordered(&c, "h1", t + LOCK, &subject, 6);
    expect_claim(store, &equal, t, not_newer.clone(), "an equal sequence").await;
    let lower = ordered(&d, "h1", t + LOCK, &subject, 3);
    expect_claim(store, &lower, t, not_newer, "a lower sequence").await;
    let seven = ordered(&e, "h1", t + LOCK, &subject, 7);
    expect_claim(
        store,
        &seven,
        t,
        ClaimOutcome::Acquired,
        "the next sequence",
    )
    .await;
}

/// A subject's lock lapses with its holder's `lock_expires_at`.
pub async fn subject_lock_lapses<S: Store + ?Sized>(store: &S, ns: &str) {
    let t = now_millis();
    let subject = name(ns, "subject");
    let crashed = ordered(&name(ns, "a"), "h1", t + LOCK, &subject, 1);
    expect_claim(store, &crashed, t, ClaimOutcome::Acquired, "a new subject").await;
    let next = ordered(&name(ns, "b"), "h1", t + 2 * LOCK, &subject, 2);
    let busy = ClaimOutcome::SubjectBusy { until: t + LOCK };
    expect_claim(store, &next, t + LOCK, busy, "a subject at its lock's end").await;
    let what = "a subject whose lock lapsed";
    expect_claim(store, &next, t + LOCK + 1, ClaimOutcome::Acquired, what).await;
}

/// A late completion of an older sequence (its lock lapsed meanwhile) never moves the
/// subject back. The late completion itself may succeed or report `LockLost`.
pub async fn subject_never_moves_backwards<S: Store + ?Sized>(store: &S, ns: &str) {
    let t = now_millis();
    let subject = name(ns, "subject");
    let [old, new, dup, next] = ["old", "new", "dup", "next"].map(|part| name(ns, part));
    let slow = ordered(&old, "h1", t + LOCK, &subject, 3);
    expect_claim(store, &slow, t, ClaimOutcome::Acquired, "a new subject").await;
    let after = t + LOCK + 1;
    let ten = ordered(&new, "h1", after + LOCK, &subject, 10);
    let what = "a subject whose lock lapsed";
    expect_claim(store, &ten, after, ClaimOutcome::Acquired, what).await;
    expect_complete(
        store,
        done(&new, t + TTL, Some((&subject, 10))),
        "a held key",
    )
    .await;
    let late = store
        .complete(&[done(&old, t + TTL, Some((&subject, 3)))])
        .await;
    assert!(
        matches!(late.as_slice(), [Ok(())] | [Err(StoreError::LockLost(_))]),
        "a late completion of an older sequence answered {late:?}, expected Ok or LockLost",
    );
    let again = ordered(&dup, "h1", after + LOCK, &subject, 10);
    let not_newer = ClaimOutcome::NotNewer { newest: 10 };
    let what = "the newest sequence after a late, older completion";
    expect_claim(store, &again, after, not_newer, what).await;
    let eleven = ordered(&next, "h1", after + LOCK, &subject, 11);
    expect_claim(
        store,
        &eleven,
        after,
        ClaimOutcome::Acquired,
        "a newer sequence",
    )
    .await;
}

/// The key record and the subject lock are taken together or not at all.
pub async fn claim_is_atomic<S: Store + ?Sized>(store: &S, ns: &str) {
    let t = now_millis();
    let subject = name(ns, "subject");
    let [a, b, c] = ["a", "b", "c"].map(|part| name(ns, part));

    // The subject refuses: the key must stay free.
    let holder = ordered(&a, "h1", t + LOCK, &subject, 1);
    expect_claim(store, &holder, t, ClaimOutcome::Acquired, "a new subject").await;
    let waiting = ordered(&b, "h1", t + LOCK, &subject, 2);
    let busy = ClaimOutcome::SubjectBusy { until: t + LOCK };
    expect_claim(store, &waiting, t, busy, "a subject locked by another key").await;
    expect_release(store, &a, Some(&subject)).await;
    let what = "a key refused by its busy subject before (no record may remain)";
    expect_claim(store, &waiting, t, ClaimOutcome::Acquired, what).await;
    expect_complete(store, done(&b, t + TTL, Some((&subject, 2))), "a held key").await;
    let stale = ordered(&c, "h1", t + LOCK, &subject, 2);
    let not_newer = ClaimOutcome::NotNewer { newest: 2 };
    let what = "a key refused as not newer before (no record may remain)";
    expect_claim(store, &stale, t, not_newer.clone(), "a not newer sequence").await;
    expect_claim(store, &stale, t, not_newer, what).await;

    // The key refuses: the subject must stay unlocked.
    for (part, hash, refusal) in [
        ("reused", "h2", ClaimOutcome::KeyReused),
        (
            "running",
            "h1",
            ClaimOutcome::InProgress { until: t + LOCK },
        ),
    ] {
        let key = name(ns, part);
        let other_subject = name(ns, &format!("{part}-subject"));
        expect_claim(
            store,
            &plain(&key, "h1", t + LOCK),
            t,
            ClaimOutcome::Acquired,
            part,
        )
        .await;
        let refused = ordered(&key, hash, t + LOCK, &other_subject, 1);
        expect_claim(store, &refused, t, refusal, "a key held without ordering").await;
        let free = ordered(
            &name(ns, &format!("{part}-free")),
            "h1",
            t + LOCK,
            &other_subject,
            1,
        );
        let what = "a subject whose claim was refused by its key (it must stay unlocked)";
        expect_claim(store, &free, t, ClaimOutcome::Acquired, what).await;
    }
}

/// Claims of one call for the same key or subject: the first wins, later ones see its effect.
/// A backend that sends a batch's requests concurrently must still order those that share a
/// key or a subject.
pub async fn same_batch_collisions<S: Store + ?Sized>(store: &S, ns: &str) {
    let t = now_millis();
    let until = t + LOCK;
    let [s1, s2] = ["s1", "s2"].map(|part| name(ns, part));
    let [k1, k2, k3, k4, k5, k6] = ["k1", "k2", "k3", "k4", "k5", "k6"].map(|part| name(ns, part));
    let claims = [
        plain(&k1, "h1", until),
        plain(&k1, "h1", until),
        plain(&k2, "h1", until),
        plain(&k2, "h2", until),
        ordered(&k3, "h1", until, &s1, 1),
        ordered(&k4, "h1", until, &s1, 2),
        ordered(&k5, "h1", until, &s2, 5),
        ordered(&k6, "h1", until, &s2, 4),
    ];
    let answers = store.claim(&claims, t).await;
    let expected: Vec<Result<ClaimOutcome, StoreError>> = vec![
        Ok(ClaimOutcome::Acquired),
        Ok(ClaimOutcome::InProgress { until }),
        Ok(ClaimOutcome::Acquired),
        Ok(ClaimOutcome::KeyReused),
        Ok(ClaimOutcome::Acquired),
        Ok(ClaimOutcome::SubjectBusy { until }),
        Ok(ClaimOutcome::Acquired),
        Ok(ClaimOutcome::SubjectBusy { until }),
    ];
    assert_eq!(answers, expected, "claims colliding within one call");
}

/// Only a held lock can be completed; a failed completion leaves the subject alone.
pub async fn completion_requires_lock<S: Store + ?Sized>(store: &S, ns: &str) {
    let t = now_millis();
    let subject = name(ns, "subject");
    let [never, twice, released, next] =
        ["never", "twice", "released", "next"].map(|p| name(ns, p));

    expect_lock_lost(
        store,
        done(&never, t + TTL, Some((&subject, 9))),
        "a key never claimed",
    )
    .await;
    expect_claim(
        store,
        &plain(&twice, "h1", t + LOCK),
        t,
        ClaimOutcome::Acquired,
        "twice",
    )
    .await;
    expect_complete(store, done(&twice, t + TTL, None), "a held key").await;
    expect_lock_lost(store, done(&twice, t + TTL, None), "a completed key").await;
    let claim = plain(&released, "h1", t + LOCK);
    expect_claim(store, &claim, t, ClaimOutcome::Acquired, "an absent key").await;
    expect_release(store, &released, None).await;
    expect_lock_lost(store, done(&released, t + TTL, None), "a released key").await;

    let nine = ordered(&next, "h1", t + LOCK, &subject, 9);
    let what = "a subject whose only completion failed (it must not advance)";
    expect_claim(store, &nine, t, ClaimOutcome::Acquired, what).await;
}

/// Completing an ordered record advances its subject and frees it at once.
pub async fn completion_frees_subject<S: Store + ?Sized>(store: &S, ns: &str) {
    let t = now_millis();
    let subject = name(ns, "subject");
    let [a, b] = ["a", "b"].map(|part| name(ns, part));
    let one = ordered(&a, "h1", t + LOCK, &subject, 1);
    expect_claim(store, &one, t, ClaimOutcome::Acquired, "a new subject").await;
    expect_complete(store, done(&a, t + TTL, Some((&subject, 1))), "a held key").await;
    let two = ordered(&b, "h1", t + LOCK, &subject, 2);
    let what = "a subject whose holder completed";
    expect_claim(store, &two, t, ClaimOutcome::Acquired, what).await;
}

/// Releasing frees the key and the subject lock it holds; releasing what is not held is a
/// no-op that succeeds, and never drops a completed record or another key's subject lock.
pub async fn release_is_idempotent<S: Store + ?Sized>(store: &S, ns: &str) {
    let t = now_millis();
    let subject = name(ns, "subject");
    let [a, b, c, unknown] = ["a", "b", "c", "unknown"].map(|part| name(ns, part));

    let first = ordered(&a, "h1", t + LOCK, &subject, 1);
    expect_claim(store, &first, t, ClaimOutcome::Acquired, "a new subject").await;
    expect_release(store, &a, Some(&subject)).await;
    expect_release(store, &a, Some(&subject)).await;
    expect_release(store, &unknown, Some(&subject)).await;
    let what = "a key released (twice)";
    expect_claim(store, &first, t, ClaimOutcome::Acquired, what).await;

    // `a` holds the subject again: releasing another key must not free it.
    expect_release(store, &b, Some(&subject)).await;
    let other = ordered(&b, "h1", t + LOCK, &subject, 2);
    let busy = ClaimOutcome::SubjectBusy { until: t + LOCK };
    let what = "a subject after another key's release";
    expect_claim(store, &other, t, busy, what).await;

    // Releasing a completed record keeps it.
    expect_complete(store, done(&a, t + TTL, Some((&subject, 1))), "a held key").await;
    expect_release(store, &a, Some(&subject)).await;
    let what = "a completed key after a release";
    expect_claim(store, &first, t, ClaimOutcome::Completed, what).await;
    let next = ordered(&c, "h1", t + LOCK, &subject, 1);
    let what = "a subject after its completed key's release";
    expect_claim(store, &next, t, ClaimOutcome::NotNewer { newest: 1 }, what).await;
}

/// Every method answers once per record, in order, and an empty call answers nothing.
pub async fn answers_in_order<S: Store + ?Sized>(store: &S, ns: &str) {
    let t = now_millis();
    assert_eq!(store.claim(&[], t).await, Vec::new(), "an empty claim");
    assert_eq!(store.complete(&[]).await, Vec::new(), "an empty completion");
    assert_eq!(store.release(&[]).await, Vec::new(), "an empty release");

    let [a, b, c] = ["a", "b", "c"].map(|part| name(ns, part));
    let first = store.claim(&[plain(&a, "h1", t + LOCK)], t).await;
    assert_eq!(first, vec![Ok(ClaimOutcome::Acquired)], "claiming {a}");
    let claims = [
        plain(&b, "h1", t + LOCK),
        plain(&a, "h2", t + LOCK),
        plain(&c, "h1", t + LOCK),
    ];
    let expected = vec![
        Ok(ClaimOutcome::Acquired),
        Ok(ClaimOutcome::KeyReused),
        Ok(ClaimOutcome::Acquired),
    ];
    assert_eq!(store.claim(&claims, t).await, expected, "a mixed claim");

    let completions = [
        done(&a, t + TTL, None),
        done(&name(ns, "unknown"), t + TTL, None),
        done(&c, t + TTL, None),
    ];
    let expected = vec![
        Ok(()),
        Err(StoreError::LockLost(name(ns, "unknown"))),
        Ok(()),
    ];
    assert_eq!(
        store.complete(&completions).await,
        expected,
        "a mixed completion"
    );
    let releases =
        [b.clone(), c.clone(), name(ns, "never")].map(|key| Release { key, subject: None });
    let expected = vec![Ok(()), Ok(()), Ok(())];
    assert_eq!(store.release(&releases).await, expected, "a release");
    let after = store
        .claim(&[plain(&b, "h1", t + LOCK), plain(&c, "h1", t + LOCK)], t)
        .await;
    let expected = vec![Ok(ClaimOutcome::Acquired), Ok(ClaimOutcome::Completed)];
    assert_eq!(after, expected, "a released and a completed key");
}

/// Many concurrent claims of one key, or of one subject: exactly one acquires, every other
/// sees the winner's lock. Run it on a multi-threaded runtime to race for real.
pub async fn concurrent_claims_have_one_winner<S: Store + ?Sized>(store: Arc<S>, ns: &str) {
    const TASKS: usize = 16;
    let t = now_millis();
    let until = t + LOCK;
    let key = name(ns, "key");
    let subject = name(ns, "subject");
    let mut tasks = Vec::with_capacity(2 * TASKS);
    for task in 0..TASKS {
        let same_key = plain(&key, "h1", until);
        let same_subject = ordered(&name(ns, &format!("k{task}")), "h1", until, &subject, 1);
        for claim in [same_key, same_subject] {
            let store = Arc::clone(&store);
            tasks.push(tokio::spawn(async move { store.claim(&[claim], t).await }));
        }
    }
    let mut answers = Vec::with_capacity(tasks.len());
    for task in tasks {
        answers.push(task.await.expect("a claiming task panicked"));
    }
    for (parity, losing, what) in [
        (0, ClaimOutcome::InProgress { until }, "one key"),
        (1, ClaimOutcome::SubjectBusy { until }, "one subject"),
    ] {
        let mine: Vec<_> = answers.iter().skip(parity).step_by(2).collect();
        let winners = mine
            .iter()
            .filter(|answer| answer.as_slice() == [Ok(ClaimOutcome::Acquired)])
            .count();
        let losers = mine
            .iter()
            .filter(|answer| answer.as_slice() == [Ok(losing.clone())])
            .count();
        assert_eq!(
            (winners, losers),
            (1, TASKS - 1),
            "{TASKS} concurrent claims of {what} answered {mine:?}",
        );
    }
}

fn name(ns: &str, part: &str) -> String {
    format!("{ns}/{part}")
}

fn plain(key: &str, hash: &str, lock_expires_at: EpochMillis) -> Claim {
    Claim {
        key: key.to_owned(),
        payload_hash: hash.to_owned(),
        lock_expires_at,
        ordering: None,
    }
}

fn ordered(
    key: &str,
    hash: &str,
    lock_expires_at: EpochMillis,
    subject: &str,
    sequence: u64,
) -> Claim {
    Claim {
        ordering: Some(SubjectSequence {
            subject: subject.to_owned(),
            sequence,
        }),
        ..plain(key, hash, lock_expires_at)
    }
}

fn done(key: &str, expires_at: EpochMillis, ordering: Option<(&str, u64)>) -> Completion {
    Completion {
        key: key.to_owned(),
        expires_at,
        ordering: ordering.map(|(subject, sequence)| SubjectSequence {
            subject: subject.to_owned(),
            sequence,
        }),
    }
}

async fn expect_claim<S: Store + ?Sized>(
    store: &S,
    claim: &Claim,
    now: EpochMillis,
    expected: ClaimOutcome,
    what: &str,
) {
    let answer = store.claim(std::slice::from_ref(claim), now).await;
    assert_eq!(
        answer,
        vec![Ok(expected)],
        "claiming {what}: {claim:?} at {now}",
    );
}

async fn expect_complete<S: Store + ?Sized>(store: &S, completion: Completion, what: &str) {
    let answer = store.complete(std::slice::from_ref(&completion)).await;
    assert_eq!(answer, vec![Ok(())], "completing {what}: {completion:?}");
}

async fn expect_lock_lost<S: Store + ?Sized>(store: &S, completion: Completion, what: &str) {
    let answer = store.complete(std::slice::from_ref(&completion)).await;
    let expected = vec![Err(StoreError::LockLost(completion.key.clone()))];
    assert_eq!(answer, expected, "completing {what}: {completion:?}");
}

async fn expect_release<S: Store + ?Sized>(store: &S, key: &str, subject: Option<&str>) {
    let release = Release {
        key: key.to_owned(),
        subject: subject.map(str::to_owned),
    };
    let answer = store.release(std::slice::from_ref(&release)).await;
    assert_eq!(answer, vec![Ok(())], "releasing {release:?}");
}

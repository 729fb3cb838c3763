//! Checks that any [`Store`] implementation must pass, so that every backend (memory, DynamoDB)
//! gives the pipeline the same answers.
//!
//! Each check is a plain `async fn` that panics with a message naming the rule broken. A
//! backend's tests call [`run_all`], or each check from its own `#[tokio::test]` to see every
//! failure separately. A backend in another crate runs it with the `testing` feature in its
//! dev-dependencies.
//!
//! Every key and subject a check writes starts with the `namespace` it is given, so checks can
//! share one table, even with earlier runs' records still in it. Times are offsets from the
//! real clock, so that a backend whose records carry a real TTL does not delete them during
//! the check. Completed-record expiry is only checked with a margin of a second, since a
//! backend may keep it in epoch seconds; lock expiry is checked to the
//! millisecond.
//!
//! Each claim carries its own owner (fencing token); completions and releases are built from
//! the claim they end, so a check that takes a lock over builds a second claim with a new
//! owner, and the first claim's late writes must then be refused.

use std::sync::Arc;

use crate::store::{
    Claim, ClaimOutcome, Completion, EpochMillis, LockOwner, Release, Store, StoreError,
    SubjectSequence, now_millis,
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
    late_release_after_takeover(&*store, &ns("late_release_after_takeover")).await;
    late_completion_after_takeover(&*store, &ns("late_completion_after_takeover")).await;
    mark_moves_at_claim(&*store, &ns("mark_moves_at_claim")).await;
    release_keeps_the_mark(&*store, &ns("release_keeps_the_mark")).await;
    repeated_claim_is_acquired(&*store, &ns("repeated_claim_is_acquired")).await;
    concurrent_claims_have_one_winner(Arc::clone(&store), &ns("concurrent_claims_have_one_winner"))
        .await;
    concurrent_subject_claims_have_one_winner(
        store,
        &ns("concurrent_subject_claims_have_one_winner"),
    )
    .await;
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
    expect_complete(store, done(&claim, t + TTL), "a held key").await;
    let copy = ordered(&key, "h1", t + LOCK, &subject, 5);
    let completed = ClaimOutcome::Completed;
    expect_claim(store, &copy, t + 1, completed.clone(), "a completed key").await;
    expect_claim(store, &copy, t + TTL, completed, "a key at its expiry").await;
}

/// A completed key is forgotten after it expires: the same or another payload acquires it.
pub async fn completed_key_expires<S: Store + ?Sized>(store: &S, ns: &str) {
    let t = now_millis();
    for (part, hash) in [("same", "h1"), ("other", "h2")] {
        let key = name(ns, part);
        let claim = plain(&key, "h1", t + LOCK);
        expect_claim(store, &claim, t, ClaimOutcome::Acquired, "an absent key").await;
        expect_complete(store, done(&claim, t + TTL), "a held key").await;
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
        let third = plain(&key, hash, after + LOCK);
        expect_claim(store, &third, after + 1, held, what).await;
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
    expect_complete(store, done(&claim, t + TTL), "a held key").await;
    expect_claim(store, &other, t, reused, "a completed key").await;
}

/// Under ordering, a subject admits one event at a time and only sequences above its mark:
/// equal and lower sequences get `NotNewer` with the mark.
pub async fn orders_by_subject_sequence<S: Store + ?Sized>(store: &S, ns: &str) {
    let t = now_millis();
    let subject = name(ns, "subject");
    let [a, b, c, d, e] = ["a", "b", "c", "d", "e"].map(|part| name(ns, part));
    let five = ordered(&a, "h1", t + LOCK, &subject, 5);
    expect_claim(store, &five, t, ClaimOutcome::Acquired, "a new subject").await;
    let six = ordered(&b, "h1", t + LOCK, &subject, 6);
    let busy = ClaimOutcome::SubjectBusy { until: t + LOCK };
    expect_claim(store, &six, t, busy, "a subject locked by another key").await;
    expect_complete(store, done(&five, t + TTL), "a held key").await;
    expect_claim(store, &six, t, ClaimOutcome::Acquired, "a newer sequence").await;
    expect_complete(store, done(&six, t + TTL), "a held key").await;
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

/// A late completion of an older sequence (its lock lapsed and a newer event took the
/// subject meanwhile) is refused and never moves the subject back.
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
    expect_complete(store, done(&ten, t + TTL), "a held key").await;
    let what = "a late completion of an older sequence whose subject was taken over";
    expect_lock_lost(store, done(&slow, t + TTL), what).await;
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
    expect_release(store, &holder).await;
    let what = "a key refused by its busy subject before (no record may remain)";
    expect_claim(store, &waiting, t, ClaimOutcome::Acquired, what).await;
    expect_complete(store, done(&waiting, t + TTL), "a held key").await;
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

/// Claims of one call for the same key or subject: the first wins, later ones see its effect
/// (an older sequence after a newer one's claim is not newer than the mark it set). A backend
/// that sends a batch's requests concurrently must still order those that share a key or a
/// subject.
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
        Ok(ClaimOutcome::NotNewer { newest: 5 }),
    ];
    assert_eq!(answers, expected, "claims colliding within one call");
}

/// Only the owner of a held lock can complete it; completing it again (its first answer was
/// lost) succeeds; a refused completion leaves the subject alone.
pub async fn completion_requires_lock<S: Store + ?Sized>(store: &S, ns: &str) {
    let t = now_millis();
    let subject = name(ns, "subject");
    let [never, twice, released, next] =
        ["never", "twice", "released", "next"].map(|p| name(ns, p));

    let unclaimed = ordered(&never, "h1", t + LOCK, &subject, 9);
    expect_lock_lost(store, done(&unclaimed, t + TTL), "a key never claimed").await;
    let claim = plain(&twice, "h1", t + LOCK);
    expect_claim(store, &claim, t, ClaimOutcome::Acquired, "twice").await;
    expect_complete(store, done(&claim, t + TTL), "a held key").await;
    let what = "a key completed by the same owner (a repeated completion)";
    expect_complete(store, done(&claim, t + TTL), what).await;
    let stranger = plain(&twice, "h1", t + LOCK);
    let what = "a completed key, by another owner";
    expect_lock_lost(store, done(&stranger, t + TTL), what).await;
    let claim = plain(&released, "h1", t + LOCK);
    expect_claim(store, &claim, t, ClaimOutcome::Acquired, "an absent key").await;
    expect_release(store, &claim).await;
    expect_lock_lost(store, done(&claim, t + TTL), "a released key").await;

    let nine = ordered(&next, "h1", t + LOCK, &subject, 9);
    let what = "a subject whose only completion failed (it must not advance)";
    expect_claim(store, &nine, t, ClaimOutcome::Acquired, what).await;
}

/// Completing an ordered record frees its subject at once.
pub async fn completion_frees_subject<S: Store + ?Sized>(store: &S, ns: &str) {
    let t = now_millis();
    let subject = name(ns, "subject");
    let [a, b] = ["a", "b"].map(|part| name(ns, part));
    let one = ordered(&a, "h1", t + LOCK, &subject, 1);
    expect_claim(store, &one, t, ClaimOutcome::Acquired, "a new subject").await;
    expect_complete(store, done(&one, t + TTL), "a held key").await;
    let two = ordered(&b, "h1", t + LOCK, &subject, 2);
    let what = "a subject whose holder completed";
    expect_claim(store, &two, t, ClaimOutcome::Acquired, what).await;
}

/// Releasing frees the key and the subject lock its owner holds; releasing what is not held
/// at all succeeds and changes nothing; releasing what another owner holds, or a completed
/// record, is refused (`LockLost`) and changes nothing.
pub async fn release_is_idempotent<S: Store + ?Sized>(store: &S, ns: &str) {
    let t = now_millis();
    let subject = name(ns, "subject");
    let [a, b, c, unknown] = ["a", "b", "c", "unknown"].map(|part| name(ns, part));

    let first = ordered(&a, "h1", t + LOCK, &subject, 1);
    expect_claim(store, &first, t, ClaimOutcome::Acquired, "a new subject").await;
    expect_release(store, &first).await;
    expect_release(store, &first).await;
    expect_release(store, &ordered(&unknown, "h1", t + LOCK, &subject, 1)).await;
    let again = ordered(&a, "h1", t + LOCK, &subject, 1);
    let what = "a key released (twice): it may take its own mark again";
    expect_claim(store, &again, t, ClaimOutcome::Acquired, what).await;

    // `a` holds the subject again: a release by another owner must not free it.
    let other = ordered(&b, "h1", t + LOCK, &subject, 2);
    expect_release_refused(store, &other, "another owner's subject lock").await;
    let busy = ClaimOutcome::SubjectBusy { until: t + LOCK };
    let what = "a subject after another owner's release";
    expect_claim(store, &other, t, busy, what).await;

    // A completed record is kept.
    expect_complete(store, done(&again, t + TTL), "a held key").await;
    expect_release_refused(store, &again, "a completed record").await;
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
    let first = plain(&a, "h1", t + LOCK);
    let answer = store.claim(std::slice::from_ref(&first), t).await;
    assert_eq!(answer, vec![Ok(ClaimOutcome::Acquired)], "claiming {a}");
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

    let unknown = plain(&name(ns, "unknown"), "h1", t + LOCK);
    let completions = [
        done(&first, t + TTL),
        done(&unknown, t + TTL),
        done(&claims[2], t + TTL),
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
    let never = plain(&name(ns, "never"), "h1", t + LOCK);
    let releases = [release(&claims[0]), release(&claims[2]), release(&never)];
    let expected = vec![Ok(()), Err(StoreError::LockLost(c.clone())), Ok(())];
    assert_eq!(store.release(&releases).await, expected, "a release");
    let after = store
        .claim(&[plain(&b, "h1", t + LOCK), plain(&c, "h1", t + LOCK)], t)
        .await;
    let expected = vec![Ok(ClaimOutcome::Acquired), Ok(ClaimOutcome::Completed)];
    assert_eq!(after, expected, "a released and a completed key");
}

/// Delivery A's lock lapses and B takes it over; A's release, sent before the takeover but
/// landing after it, is refused, so B keeps the lock and a third copy cannot run beside B.
/// The same holds for a subject's lock.
pub async fn late_release_after_takeover<S: Store + ?Sized>(store: &S, ns: &str) {
    let t = now_millis();
    let after = t + LOCK + 1;
    let key = name(ns, "key");
    let a = plain(&key, "h1", t + LOCK);
    expect_claim(store, &a, t, ClaimOutcome::Acquired, "an absent key").await;
    let b = plain(&key, "h1", after + LOCK);
    expect_claim(store, &b, after, ClaimOutcome::Acquired, "a lapsed lock").await;
    expect_release_refused(store, &a, "a key taken over (a late release)").await;
    let c = plain(&key, "h1", after + LOCK);
    let held = ClaimOutcome::InProgress {
        until: after + LOCK,
    };
    let what = "a key whose new holder a late release tried to free";
    expect_claim(store, &c, after + 1, held, what).await;
    expect_complete(store, done(&b, t + TTL), "the new holder's lock").await;

    let subject = name(ns, "subject");
    let [old, new, third] = ["old", "new", "third"].map(|part| name(ns, part));
    let a = ordered(&old, "h1", t + LOCK, &subject, 1);
    expect_claim(store, &a, t, ClaimOutcome::Acquired, "a new subject").await;
    let b = ordered(&new, "h1", after + LOCK, &subject, 2);
    expect_claim(store, &b, after, ClaimOutcome::Acquired, "a lapsed subject").await;
    expect_release_refused(store, &a, "a subject taken over (a late release)").await;
    let c = ordered(&third, "h1", after + LOCK, &subject, 3);
    let busy = ClaimOutcome::SubjectBusy {
        until: after + LOCK,
    };
    let what = "a subject whose new holder a late release tried to free";
    expect_claim(store, &c, after + 1, busy, what).await;
}

/// Delivery A's lock lapses and B takes it over; A's completion, landing late, is refused:
/// the record stays B's, and only B's completion completes it.
pub async fn late_completion_after_takeover<S: Store + ?Sized>(store: &S, ns: &str) {
    let t = now_millis();
    let after = t + LOCK + 1;
    let key = name(ns, "key");
    let a = plain(&key, "h1", t + LOCK);
    expect_claim(store, &a, t, ClaimOutcome::Acquired, "an absent key").await;
    let b = plain(&key, "h1", after + LOCK);
    expect_claim(store, &b, after, ClaimOutcome::Acquired, "a lapsed lock").await;
    expect_lock_lost(
        store,
        done(&a, t + TTL),
        "a key taken over (a late completion)",
    )
    .await;
    let c = plain(&key, "h1", after + LOCK);
    let held = ClaimOutcome::InProgress {
        until: after + LOCK,
    };
    let what = "a key whose new holder a late completion tried to end";
    expect_claim(store, &c, after + 1, held, what).await;
    expect_complete(store, done(&b, t + TTL), "the new holder's lock").await;
    let what = "a key completed by its new holder";
    expect_claim(store, &c, after + 1, ClaimOutcome::Completed, what).await;
}

/// `latest_wins` never goes back, whatever fails after a claim: sequence 2 of a subject is
/// claimed and never completed (the handler ran, then the completion failed or the process
/// died); once its lock lapses, sequence 1 is not newer, while sequence 2 itself, redelivered,
/// may run again, and completes.
pub async fn mark_moves_at_claim<S: Store + ?Sized>(store: &S, ns: &str) {
    let t = now_millis();
    let after = t + LOCK + 1;
    let subject = name(ns, "subject");
    let [one, two] = ["one", "two"].map(|part| name(ns, part));
    let newer = ordered(&two, "h1", t + LOCK, &subject, 2);
    expect_claim(store, &newer, t, ClaimOutcome::Acquired, "a new subject").await;
    let older = ordered(&one, "h1", after + LOCK, &subject, 1);
    let not_newer = ClaimOutcome::NotNewer { newest: 2 };
    let what = "an older sequence after a newer one's unfinished claim lapsed";
    expect_claim(store, &older, after, not_newer.clone(), what).await;
    let redelivered = ordered(&two, "h1", after + LOCK, &subject, 2);
    let what = "the unfinished sequence itself, redelivered after its lock lapsed";
    expect_claim(store, &redelivered, after, ClaimOutcome::Acquired, what).await;
    expect_complete(store, done(&redelivered, t + TTL), "a retaken subject").await;
    let what = "an older sequence after the newer one completed";
    expect_claim(store, &older, after, not_newer, what).await;
}

/// A release ends the subject's lock but keeps its mark: the failed run may have applied its
/// effect. An older sequence is not newer; the released event may take its mark again; a
/// newer sequence is admitted.
pub async fn release_keeps_the_mark<S: Store + ?Sized>(store: &S, ns: &str) {
    let t = now_millis();
    let subject = name(ns, "subject");
    let [one, two, three] = ["one", "two", "three"].map(|part| name(ns, part));
    let failed = ordered(&two, "h1", t + LOCK, &subject, 2);
    expect_claim(store, &failed, t, ClaimOutcome::Acquired, "a new subject").await;
    expect_release(store, &failed).await;
    let older = ordered(&one, "h1", t + LOCK, &subject, 1);
    let what = "an older sequence after a newer one was released";
    let not_newer = ClaimOutcome::NotNewer { newest: 2 };
    expect_claim(store, &older, t, not_newer, what).await;
    let retry = ordered(&two, "h1", t + LOCK, &subject, 2);
    let what = "the released event, retried";
    expect_claim(store, &retry, t, ClaimOutcome::Acquired, what).await;
    expect_release(store, &retry).await;
    let newer = ordered(&three, "h1", t + LOCK, &subject, 3);
    let what = "a newer sequence after a release";
    expect_claim(store, &newer, t, ClaimOutcome::Acquired, what).await;
}

/// A claim made again by its owner (a client retried a request whose first attempt was
/// applied) finds its own lock and is acquired; anyone else still waits.
pub async fn repeated_claim_is_acquired<S: Store + ?Sized>(store: &S, ns: &str) {
    let t = now_millis();
    let subject = name(ns, "subject");
    for claim in [
        plain(&name(ns, "plain"), "h1", t + LOCK),
        ordered(&name(ns, "ordered"), "h1", t + LOCK, &subject, 4),
    ] {
        expect_claim(store, &claim, t, ClaimOutcome::Acquired, "an absent key").await;
        let what = "the same claim, made again by its owner";
        expect_claim(store, &claim, t + 1, ClaimOutcome::Acquired, what).await;
        let other = Claim {
            owner: LockOwner::new(),
            ..claim.clone()
        };
        let held = ClaimOutcome::InProgress { until: t + LOCK };
        expect_claim(store, &other, t + 1, held, "the same key, by another owner").await;
        expect_complete(store, done(&claim, t + TTL), "a twice-claimed key").await;
    }
}

/// Many concurrent claims of one key, or of one subject at one sequence: exactly one
/// acquires, every other sees the winner's lock or mark. Repeated over many keys, since an
/// unfaithful backend grants a key twice only now and then. Run it on a multi-threaded
/// runtime to race for real.
pub async fn concurrent_claims_have_one_winner<S: Store + ?Sized>(store: Arc<S>, ns: &str) {
    const KEYS: usize = 24;
    const TASKS: usize = 8;
    let t = now_millis();
    let until = t + LOCK;
    let mut tasks = Vec::with_capacity(KEYS * TASKS * 2);
    for round in 0..KEYS {
        let key = name(ns, &format!("key{round}"));
        let subject = name(ns, &format!("subject{round}"));
        for task in 0..TASKS {
            let same_key = plain(&key, "h1", until);
            let other_key = name(ns, &format!("r{round}k{task}"));
            let same_subject = ordered(&other_key, "h1", until, &subject, 1);
            for claim in [same_key, same_subject] {
                let store = Arc::clone(&store);
                tasks.push(tokio::spawn(async move { store.claim(&[claim], t).await }));
            }
        }
    }
    let mut answers = Vec::with_capacity(tasks.len());
    for task in tasks {
        answers.push(task.await.expect("a claiming task panicked"));
    }
    let mut double_grants = Vec::new();
    for (round, answers) in answers.chunks(2 * TASKS).enumerate() {
        for (parity, losing, what) in [
            (0, ClaimOutcome::InProgress { until }, "one key"),
            (1, ClaimOutcome::NotNewer { newest: 1 }, "one subject"),
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
            if (winners, losers) != (1, TASKS - 1) {
                double_grants.push(format!("{what} #{round}: {mine:?}"));
            }
        }
    }
    assert!(
        double_grants.is_empty(),
        "{TASKS} concurrent claims must have exactly one winner; broken for {} of {} \
         keys/subjects:\n{}",
        double_grants.len(),
        2 * KEYS,
        double_grants.join("\n")
    );
}

/// Concurrent claims of one subject at different sequences, as Lambdas racing over one
/// entity under `latest_wins`: exactly one holds the subject's lock; every other either
/// waits for it (`SubjectBusy` with the winner's lock end) or is not newer than the mark the
/// winner set. Repeated over many subjects.
pub async fn concurrent_subject_claims_have_one_winner<S: Store + ?Sized>(store: Arc<S>, ns: &str) {
    const SUBJECTS: usize = 16;
    const TASKS: u64 = 8;
    let t = now_millis();
    let until = t + LOCK;
    let mut tasks = Vec::new();
    for round in 0..SUBJECTS {
        let subject = name(ns, &format!("subject{round}"));
        for sequence in 1..=TASKS {
            let key = name(ns, &format!("s{round}q{sequence}"));
            let claim = ordered(&key, "h1", until, &subject, sequence);
            let store = Arc::clone(&store);
            tasks.push(tokio::spawn(async move {
                (sequence, store.claim(&[claim], t).await)
            }));
        }
    }
    let mut answers = Vec::with_capacity(tasks.len());
    for task in tasks {
        answers.push(task.await.expect("a claiming task panicked"));
    }
    let mut broken = Vec::new();
    for (round, answers) in answers.chunks(TASKS as usize).enumerate() {
        let winners: Vec<u64> = answers
            .iter()
            .filter(|(_, answer)| answer.as_slice() == [Ok(ClaimOutcome::Acquired)])
            .map(|(sequence, _)| *sequence)
            .collect();
        let [winner] = winners.as_slice() else {
            broken.push(format!(
                "subject #{round}: winners {winners:?} in {answers:?}"
            ));
            continue;
        };
        for (sequence, answer) in answers {
            let fine = match answer.as_slice() {
                [Ok(ClaimOutcome::Acquired)] => sequence == winner,
                [Ok(ClaimOutcome::SubjectBusy { until: end })] => *end == until,
                [Ok(ClaimOutcome::NotNewer { newest })] => newest >= sequence,
                _ => false,
            };
            if !fine {
                broken.push(format!(
                    "subject #{round}: sequence {sequence} answered {answer:?} (winner {winner})"
                ));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "concurrent claims of one subject must leave exactly one holder:\n{}",
        broken.join("\n")
    );
}

fn name(ns: &str, part: &str) -> String {
    format!("{ns}/{part}")
}

/// A claim without ordering, with an owner of its own.
fn plain(key: &str, hash: &str, lock_expires_at: EpochMillis) -> Claim {
    Claim {
        key: key.to_owned(),
        payload_hash: hash.to_owned(),
        owner: LockOwner::new(),
        lock_expires_at,
        ordering: None,
    }
}

/// A claim under ordering, with an owner of its own.
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

/// The completion of `claim`, by its owner.
fn done(claim: &Claim, expires_at: EpochMillis) -> Completion {
    Completion {
        key: claim.key.clone(),
        owner: claim.owner.clone(),
        expires_at,
        subject: claim.ordering.as_ref().map(|o| o.subject.clone()),
    }
}

/// The release of `claim`, by its owner.
fn release(claim: &Claim) -> Release {
    Release {
        key: claim.key.clone(),
        owner: claim.owner.clone(),
        subject: claim.ordering.as_ref().map(|o| o.subject.clone()),
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

async fn expect_release<S: Store + ?Sized>(store: &S, claim: &Claim) {
    let release = release(claim);
    let answer = store.release(std::slice::from_ref(&release)).await;
    assert_eq!(answer, vec![Ok(())], "releasing {release:?}");
}

async fn expect_release_refused<S: Store + ?Sized>(store: &S, claim: &Claim, what: &str) {
    let release = release(claim);
    let answer = store.release(std::slice::from_ref(&release)).await;
    let expected = vec![Err(StoreError::LockLost(release.key.clone()))];
    assert_eq!(answer, expected, "releasing {what}: {release:?}");
}

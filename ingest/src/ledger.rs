//! Pure bookkeeping of a worker: which partitions it owns, where each stands,
//! what each table still lacks, and what is buffered for the next commit.
//! No I/O and no clock (time comes in as an argument), so every rule of the
//! delivery guarantee is unit-tested here.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use tongdian_schemas::{DeadLetter, FeedbackRow};

use crate::sink::{Advance, TableId, TableOffsets, TableSet, TopicPartition};
use crate::source::Assigned;

#[derive(Debug, Clone, PartialEq)]
struct Progress {
    /// Last offset each table holds (committed), per table.
    committed: TableOffsets,
    /// The next offset we expect; anything lower was already seen.
    next_offset: i64,
    /// High watermark at start, for `--exit-at-end`.
    end_offset: Option<i64>,
}

/// What to do with a message, decided before it is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Not (or no longer) ours: a message fetched before a rebalance.
    NotAssigned,
    /// Seen already in this assignment (a re-delivery after a seek).
    Stale,
    /// New to this worker. `lacking` are the tables that do not hold it
    /// yet: after a crash between two tables' commits, some already do.
    Fresh { lacking: TableSet },
}

impl Admission {
    pub fn wants(self, table: TableId) -> bool {
        match self {
            Admission::Fresh { lacking } => lacking.contains(table),
            _ => false,
        }
    }
}

#[derive(Debug, Default)]
pub struct Ledger {
    partitions: HashMap<TopicPartition, Progress>,
    tables: TableSet,
}

impl Ledger {
    /// Bookkeeping for the tables in `tables`.
    pub fn new(tables: TableSet) -> Ledger {
        Ledger {
            partitions: HashMap::new(),
            tables,
        }
    }

    pub fn assign(&mut self, assigned: &Assigned, end_offset: Option<i64>) {
        self.partitions.insert(
            assigned.partition.clone(),
            Progress {
                committed: assigned.table_offsets,
                next_offset: assigned.next_offset,
                end_offset,
            },
        );
    }

    /// Forgets `partitions`; an empty list means all of them (librdkafka
    /// reports a lost assignment that way).
    pub fn revoke(&mut self, partitions: &[TopicPartition]) {
        if partitions.is_empty() {
            self.partitions.clear();
        } else {
            for p in partitions {
                self.partitions.remove(p);
            }
        }
    }

    pub fn partitions(&self) -> usize {
        self.partitions.len()
    }

    pub fn is_assigned(&self, p: &TopicPartition) -> bool {
        self.partitions.contains_key(p)
    }

    pub fn admit(&mut self, p: &TopicPartition, offset: i64) -> Admission {
        let Some(progress) = self.partitions.get_mut(p) else {
            return Admission::NotAssigned;
        };
        if offset < progress.next_offset {
            return Admission::Stale;
        }
        progress.next_offset = offset + 1;
        let lacking = self
            .tables
            .iter()
            .filter(|t| progress.committed.get(*t).is_none_or(|c| offset > c))
            .fold(TableSet::EMPTY, TableSet::with);
        Admission::Fresh { lacking }
    }

    /// What `table` must record next: for every partition whose progress it
    /// lacks, from its committed offset to the last offset seen. These are
    /// the `txn` entries (and fence) of its next commit.
    pub fn uncommitted(&self, table: TableId) -> Vec<Advance> {
        let mut out: Vec<_> = self
            .partitions
            .iter()
            .filter_map(|(p, progress)| {
                let last = progress.next_offset - 1;
                let from = progress.committed.get(table);
                let behind = from.is_none_or(|c| last > c);
                (last >= 0 && behind).then(|| Advance {
                    partition: p.clone(),
                    from,
                    to: last,
                })
            })
            .collect();
        out.sort();
        out
    }

    pub fn mark_committed(&mut self, table: TableId, advances: &[Advance]) {
        for a in advances {
            if let Some(progress) = self.partitions.get_mut(&a.partition) {
                progress.committed.set(table, a.to);
            }
        }
    }

    /// Starts a partition over from what the tables hold now (after another
    /// writer was found to have advanced it). Returns where to read next.
    pub fn resync(&mut self, p: &TopicPartition, table_offsets: TableOffsets) -> Option<i64> {
        let progress = self.partitions.get_mut(p)?;
        progress.committed = table_offsets;
        progress.next_offset = table_offsets.resume_from().unwrap_or(0);
        Some(progress.next_offset)
    }

    /// The offsets to report to Kafka's group coordinator (for lag tools):
    /// the next offset to read, for partitions every table has committed.
    pub fn group_offsets(&self) -> Vec<(TopicPartition, i64)> {
        self.partitions
            .iter()
            .filter_map(|(p, progress)| progress.committed.resume_from().map(|o| (p.clone(), o)))
            .collect()
    }

    /// True when this worker owns partitions and has read each of them up to
    /// the end offset it had at start.
    pub fn reached_end(&self) -> bool {
        !self.partitions.is_empty()
            && self
                .partitions
                .values()
                .all(|p| p.end_offset.is_none_or(|end| p.next_offset >= end))
    }

    /// True when every table holds everything read so far.
    pub fn all_committed(&self) -> bool {
        self.tables.iter().all(|t| self.uncommitted(t).is_empty())
    }
}

/// What [`RecentIds::check`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdCheck {
    /// Not seen within the window; now remembered.
    New,
    /// Accepted before, from `partition` at `offset`: a resend.
    Duplicate { partition: i32, offset: i64 },
}

/// The last `capacity` accepted message ids, to keep producers' resends out
/// of `feedback`. Ids of rows that are dropped before their commit (a
/// revoked or fenced partition) are forgotten, since those messages will
/// be read again.
#[derive(Debug, Default)]
pub struct RecentIds {
    capacity: usize,
    order: VecDeque<String>,
    seen: HashMap<String, (i32, i64)>,
}

impl RecentIds {
    /// `capacity` 0 remembers nothing: every id is new.
    pub fn new(capacity: usize) -> RecentIds {
        RecentIds {
            capacity,
            ..RecentIds::default()
        }
    }

    pub fn check(&mut self, id: &str, partition: i32, offset: i64) -> IdCheck {
        if self.capacity == 0 {
            return IdCheck::New;
        }
        if let Some(&(partition, offset)) = self.seen.get(id) {
            return IdCheck::Duplicate { partition, offset };
        }
        while self.order.len() >= self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        self.order.push_back(id.to_owned());
        self.seen.insert(id.to_owned(), (partition, offset));
        IdCheck::New
    }

    /// Forgets `id` if it was remembered from exactly this message.
    pub fn forget(&mut self, id: &str, partition: i32, offset: i64) {
        if self.seen.get(id) == Some(&(partition, offset)) {
            self.seen.remove(id);
            // Its slot in `order` stays until it ages out; removing an id
            // that is no longer in `seen` is harmless.
        }
    }

    /// Forgets every id remembered from `partition` above `offset`: after a
    /// resync those messages are read again, and whatever this worker
    /// thought it had committed beyond what the table holds is not there.
    pub fn forget_after(&mut self, partition: i32, offset: Option<i64>) {
        let above = |o: i64| offset.is_none_or(|t| o > t);
        self.seen.retain(|_, (p, o)| *p != partition || !above(*o));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.seen.len()
    }
}

/// Rows waiting for the next commit.
#[derive(Debug, Default)]
pub struct Pending {
    pub feedback: Vec<FeedbackRow>,
    pub dead_letters: Vec<DeadLetter>,
    /// Payload bytes read since the last commit.
    pub bytes: usize,
    /// Messages read since the last commit (including ones no table wanted).
    pub messages: usize,
    /// When the first of them arrived.
    pub since: Option<Instant>,
}

/// When a worker commits.
#[derive(Debug, Clone, Copy)]
pub struct FlushPolicy {
    pub max_messages: usize,
    pub max_bytes: usize,
    pub max_age: Duration,
}

impl Pending {
    pub fn note_message(&mut self, bytes: usize, now: Instant) {
        self.messages += 1;
        self.bytes += bytes;
        self.since.get_or_insert(now);
    }

    pub fn is_due(&self, policy: &FlushPolicy, now: Instant) -> bool {
        self.messages >= policy.max_messages
            || self.bytes >= policy.max_bytes
            || self
                .since
                .is_some_and(|t| now.duration_since(t) >= policy.max_age)
    }

    /// When the age limit will make a flush due.
    pub fn deadline(&self, policy: &FlushPolicy) -> Option<Instant> {
        self.since.map(|t| t + policy.max_age)
    }

    /// Keeps the rows of the partitions `keep` says yes to.
    fn retain_partitions(&mut self, keep: impl Fn(&str, i32) -> bool) {
        self.feedback
            .retain(|r| keep(&r.provenance.topic, r.provenance.partition));
        self.dead_letters
            .retain(|r| keep(&r.provenance.topic, r.provenance.partition));
    }

    /// Drops what was buffered for partitions this worker no longer owns.
    pub fn retain_assigned(&mut self, ledger: &Ledger, recent: &mut RecentIds) {
        self.forget_ids(recent, |topic, partition| {
            ledger.is_assigned(&TopicPartition::new(topic, partition))
        });
        self.retain_partitions(|topic, partition| {
            ledger.is_assigned(&TopicPartition::new(topic, partition))
        });
        if self.feedback.is_empty() && self.dead_letters.is_empty() && ledger.all_committed() {
            *self = Pending::default();
        }
    }

    /// Drops what was buffered for one partition (another writer owns it).
    pub fn drop_partition(&mut self, p: &TopicPartition, recent: &mut RecentIds) {
        let keep = |topic: &str, partition| partition != p.partition || topic != p.topic;
        self.forget_ids(recent, keep);
        self.retain_partitions(keep);
    }

    /// The rows about to be dropped will be read again: their ids are not
    /// resends.
    fn forget_ids(&self, recent: &mut RecentIds, keep: impl Fn(&str, i32) -> bool) {
        for r in &self.feedback {
            let p = &r.provenance;
            if !keep(&p.topic, p.partition) {
                recent.forget(&r.feedback.id, p.partition, p.offset);
            }
        }
    }

    pub fn take(&mut self) -> Pending {
        std::mem::take(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(p: i32) -> TopicPartition {
        TopicPartition::new("t", p)
    }

    fn assigned(p: i32, feedback: Option<i64>, dead: Option<i64>) -> Assigned {
        let mut table_offsets = TableOffsets::default();
        if let Some(o) = feedback {
            table_offsets.set(TableId::Feedback, o);
        }
        if let Some(o) = dead {
            table_offsets.set(TableId::DeadLetters, o);
        }
        Assigned {
            partition: tp(p),
            table_offsets,
            next_offset: table_offsets.resume_from().unwrap_or(0),
        }
    }

    #[test]
    fn messages_of_partitions_we_do_not_own_are_refused() {
        let mut l = Ledger::default();
        assert_eq!(l.admit(&tp(0), 0), Admission::NotAssigned);
        l.assign(&assigned(0, None, None), None);
        assert!(matches!(l.admit(&tp(0), 0), Admission::Fresh { .. }));
        l.revoke(&[tp(0)]);
        assert_eq!(l.admit(&tp(0), 1), Admission::NotAssigned);
    }

    #[test]
    fn redeliveries_are_stale() {
        let mut l = Ledger::default();
        l.assign(&assigned(0, Some(9), Some(9)), None);
        assert_eq!(l.admit(&tp(0), 5), Admission::Stale);
        assert_eq!(
            l.admit(&tp(0), 10),
            Admission::Fresh {
                lacking: TableSet::CORE
            }
        );
        assert_eq!(l.admit(&tp(0), 10), Admission::Stale);
        // Gaps (compaction, transaction markers) are fine.
        assert!(matches!(l.admit(&tp(0), 14), Admission::Fresh { .. }));
    }

    #[test]
    fn a_table_that_already_holds_a_message_does_not_get_it_again() {
        // Crash after feedback committed up to 20 but before dead_letters did.
        let mut l = Ledger::default();
        l.assign(&assigned(0, Some(20), Some(10)), None);
        let a = l.admit(&tp(0), 11);
        assert!(!a.wants(TableId::Feedback));
        assert!(a.wants(TableId::DeadLetters));
        for o in 12..=21 {
            l.admit(&tp(0), o);
        }
        assert!(l.admit(&tp(0), 22).wants(TableId::Feedback));
        let advance = |from| Advance {
            partition: tp(0),
            from: Some(from),
            to: 22,
        };
        assert_eq!(l.uncommitted(TableId::Feedback), vec![advance(20)]);
        assert_eq!(l.uncommitted(TableId::DeadLetters), vec![advance(10)]);
    }

    #[test]
    fn committing_moves_offsets_and_group_offsets_follow_the_slowest_table() {
        let mut l = Ledger::default();
        l.assign(&assigned(0, None, None), Some(3));
        l.assign(&assigned(1, None, None), Some(0));
        for o in 0..3 {
            l.admit(&tp(0), o);
        }
        assert!(l.reached_end());
        assert!(!l.all_committed());
        l.mark_committed(TableId::Feedback, &l.uncommitted(TableId::Feedback));
        assert!(
            l.group_offsets().is_empty(),
            "dead_letters has not committed yet"
        );
        l.mark_committed(TableId::DeadLetters, &l.uncommitted(TableId::DeadLetters));
        assert!(l.all_committed());
        assert_eq!(l.group_offsets(), vec![(tp(0), 3)]);
    }

    #[test]
    fn a_resynced_partition_starts_over_from_the_tables() {
        let mut l = Ledger::default();
        l.assign(&assigned(0, Some(4), Some(4)), Some(100));
        for o in 5..9 {
            l.admit(&tp(0), o);
        }
        let mut theirs = TableOffsets::default();
        theirs.set(TableId::Feedback, 30);
        theirs.set(TableId::DeadLetters, 30);
        assert_eq!(l.resync(&tp(0), theirs), Some(31));
        assert_eq!(l.admit(&tp(0), 8), Admission::Stale);
        assert!(l.all_committed());
        assert_eq!(l.resync(&tp(1), theirs), None, "not ours");
    }

    #[test]
    fn end_is_not_reached_without_partitions_or_before_the_end_offset() {
        let mut l = Ledger::default();
        assert!(!l.reached_end());
        l.assign(&assigned(0, Some(4), Some(4)), Some(10));
        assert!(!l.reached_end());
        for o in 5..10 {
            l.admit(&tp(0), o);
        }
        assert!(l.reached_end());
    }

    #[test]
    fn recent_ids_catch_resends_within_the_window_only() {
        let mut r = RecentIds::new(2);
        assert_eq!(r.check("a", 0, 1), IdCheck::New);
        assert_eq!(r.check("b", 0, 2), IdCheck::New);
        assert_eq!(
            r.check("a", 1, 7),
            IdCheck::Duplicate {
                partition: 0,
                offset: 1
            }
        );
        assert_eq!(r.check("c", 0, 3), IdCheck::New, "a ages out");
        assert_eq!(r.check("a", 0, 4), IdCheck::New);
        assert_eq!(r.len(), 2);

        // A dropped row's id is forgotten, but only for that message.
        r.forget("c", 0, 99);
        assert!(matches!(r.check("c", 0, 5), IdCheck::Duplicate { .. }));
        r.forget("c", 0, 3);
        assert_eq!(r.check("c", 0, 3), IdCheck::New, "re-read after a revoke");

        // A resync to offset 3 of partition 0: ids from above it are re-read.
        r.check("d", 0, 4);
        r.check("e", 1, 9);
        r.forget_after(0, Some(3));
        assert_eq!(r.check("d", 0, 4), IdCheck::New);
        assert!(matches!(r.check("e", 1, 9), IdCheck::Duplicate { .. }));

        let mut off = RecentIds::new(0);
        assert_eq!(off.check("a", 0, 1), IdCheck::New);
        assert_eq!(off.check("a", 0, 1), IdCheck::New);
    }

    #[test]
    fn flush_is_due_by_count_bytes_or_age() {
        let policy = FlushPolicy {
            max_messages: 3,
            max_bytes: 100,
            max_age: Duration::from_secs(5),
        };
        let t0 = Instant::now();
        let mut p = Pending::default();
        assert!(!p.is_due(&policy, t0));
        p.note_message(10, t0);
        assert!(!p.is_due(&policy, t0 + Duration::from_secs(4)));
        assert!(p.is_due(&policy, t0 + Duration::from_secs(5)));
        assert_eq!(p.deadline(&policy), Some(t0 + Duration::from_secs(5)));
        p.note_message(95, t0);
        assert!(p.is_due(&policy, t0), "bytes");
        let mut q = Pending::default();
        for _ in 0..3 {
            q.note_message(1, t0);
        }
        assert!(q.is_due(&policy, t0), "count");
    }
}

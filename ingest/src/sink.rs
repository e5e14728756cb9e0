//! The Delta Lake side: creating the tables, committing data together with
//! the Kafka offsets it came from, and reading those offsets back.
//!
//! Offsets are Delta application transactions (`txn` actions), one app id per
//! topic-partition and table, whose version is the last offset the table has
//! accounted for (whether or not that message produced a row in it). Each
//! table keeps its own, so a crash between the two tables' commits loses and
//! duplicates nothing: on restart each table skips what it already holds.

use std::collections::HashMap;
use std::sync::Arc;

use deltalake::arrow::array::RecordBatch;
use deltalake::arrow::datatypes::Schema;
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::kernel::{StructType, Transaction};
use deltalake::writer::{DeltaWriter, RecordBatchWriter};
use deltalake::{DeltaTable, DeltaTableBuilder, DeltaTableError};
use tongdian_schemas::{analytics, tables};

use crate::error::IngestError;

/// The tables tongdian writes. A worker writes `feedback` and
/// `dead_letters`, plus `rollups` and `alerts` when analytics are on; the
/// detector writes `pain_points` and its own `alerts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TableId {
    Feedback,
    DeadLetters,
    Rollups,
    Alerts,
    PainPoints,
}

impl TableId {
    pub const ALL: [TableId; 5] = [
        TableId::Feedback,
        TableId::DeadLetters,
        TableId::Rollups,
        TableId::Alerts,
        TableId::PainPoints,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TableId::Feedback => tables::FEEDBACK_TABLE,
            TableId::DeadLetters => tables::DEAD_LETTERS_TABLE,
            TableId::Rollups => analytics::ROLLUPS_TABLE,
            TableId::Alerts => analytics::ALERTS_TABLE,
            TableId::PainPoints => analytics::PAIN_POINTS_TABLE,
        }
    }

    fn schema(self) -> Arc<Schema> {
        match self {
            TableId::Feedback => tables::feedback_schema(),
            TableId::DeadLetters => tables::dead_letters_schema(),
            TableId::Rollups => analytics::rollups_schema(),
            TableId::Alerts => analytics::alerts_schema(),
            TableId::PainPoints => analytics::pain_points_schema(),
        }
    }

    fn partition_columns(self) -> &'static [&'static str] {
        match self {
            TableId::Feedback => tables::FEEDBACK_PARTITION_COLUMNS,
            TableId::Rollups | TableId::PainPoints => analytics::ANALYTICS_PARTITION_COLUMNS,
            TableId::DeadLetters | TableId::Alerts => &[],
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A set of tables: the ones a process writes and tracks offsets for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TableSet(u8);

impl TableSet {
    /// What every worker writes.
    pub const CORE: TableSet = TableSet::of(&[TableId::Feedback, TableId::DeadLetters]);
    /// A worker with analytics on: rollups and critical alerts join the
    /// commit, with the same offsets.
    pub const WORKER_ANALYTICS: TableSet = TableSet::of(&[
        TableId::Feedback,
        TableId::DeadLetters,
        TableId::Rollups,
        TableId::Alerts,
    ]);
    /// The detector's outputs.
    pub const DETECTOR: TableSet = TableSet::of(&[TableId::PainPoints, TableId::Alerts]);

    pub const fn of(tables: &[TableId]) -> TableSet {
        let mut bits = 0u8;
        let mut i = 0;
        while i < tables.len() {
            bits |= 1 << tables[i] as u8;
            i += 1;
        }
        TableSet(bits)
    }

    pub const EMPTY: TableSet = TableSet(0);

    pub fn with(self, table: TableId) -> TableSet {
        TableSet(self.0 | 1 << table.index())
    }

    pub fn contains(self, table: TableId) -> bool {
        self.0 & (1 << table.index()) != 0
    }

    /// In commit order.
    pub fn iter(self) -> impl Iterator<Item = TableId> {
        TableId::ALL.into_iter().filter(move |t| self.contains(*t))
    }
}

impl Default for TableSet {
    fn default() -> Self {
        TableSet::CORE
    }
}

/// A Kafka topic-partition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: i32,
}

impl std::fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.topic, self.partition)
    }
}

/// One partition's step in a table commit: the table held offsets up to
/// `from` (as far as this worker knows) and will hold them up to `to`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Advance {
    pub partition: TopicPartition,
    pub from: Option<i64>,
    pub to: i64,
}

impl TopicPartition {
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }

    /// The Delta `txn` app id that carries this partition's offset.
    pub fn app_id(&self) -> String {
        format!("tongdian:{}:{}", self.topic, self.partition)
    }
}

/// Last offset each table of a [`TableSet`] has accounted for; `None` =
/// nothing yet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableOffsets {
    offsets: [Option<i64>; TableId::ALL.len()],
    tables: TableSet,
}

impl TableOffsets {
    pub fn new(tables: TableSet) -> TableOffsets {
        TableOffsets {
            offsets: Default::default(),
            tables,
        }
    }

    pub fn get(&self, table: TableId) -> Option<i64> {
        self.offsets[table.index()]
    }

    pub fn set(&mut self, table: TableId, offset: i64) {
        self.offsets[table.index()] = Some(offset);
    }

    /// Where consumption must resume so that every table gets what it lacks.
    pub fn resume_from(&self) -> Option<i64> {
        let mut lowest: Option<i64> = None;
        for t in self.tables.iter() {
            match self.get(t) {
                None => return None,
                Some(o) => lowest = Some(lowest.map_or(o, |l| l.min(o))),
            }
        }
        lowest.map(|o| o + 1)
    }
}

/// Where the tables live and how to reach them.
#[derive(Debug, Clone)]
pub struct TableLocation {
    root: String,
    storage_options: HashMap<String, String>,
    tables: TableSet,
}

/// object_store retries a failed request up to 10 times over as long as
/// 3 minutes, inside one commit attempt, before the worker even hears of it.
/// The worker retries whole commits itself (`sink.commit_retry_secs`),
/// logging and counting each, so the store's own retries are cut to a few
/// seconds: an outage shows in the metrics at once and the shutdown bound
/// leaves room for several of the worker's tries. Options the user sets win.
const STORE_RETRY_DEFAULTS: [(&str, &str); 2] = [("max_retries", "3"), ("retry_timeout", "5s")];

impl TableLocation {
    pub fn new(root: &str, mut storage_options: HashMap<String, String>) -> Self {
        for (key, value) in STORE_RETRY_DEFAULTS {
            storage_options
                .entry(key.to_owned())
                .or_insert_with(|| value.to_owned());
        }
        TableLocation {
            root: root.trim_end_matches('/').to_owned(),
            storage_options,
            tables: TableSet::CORE,
        }
    }

    /// The tables this process writes (and resumes from); default
    /// [`TableSet::CORE`].
    pub fn with_tables(mut self, tables: TableSet) -> Self {
        self.tables = tables;
        self
    }

    pub fn tables(&self) -> TableSet {
        self.tables
    }

    /// The table at its location with the storage options, not yet loaded.
    fn handle(&self, table: TableId) -> Result<DeltaTable, DeltaTableError> {
        let url = deltalake::ensure_table_uri(format!("{}/{}", self.root, table.name()))?;
        DeltaTableBuilder::from_url(url)?
            .with_storage_options(self.storage_options.clone())
            .build()
    }

    async fn load(&self, table: TableId) -> Result<DeltaTable, DeltaTableError> {
        let mut table = self.handle(table)?;
        // Probe first: loading a location without a log makes the kernel
        // log an error, and a table that is not there yet is expected.
        if !table.verify_deltatable_existence().await? {
            return Err(DeltaTableError::NotATable(format!(
                "no Delta log under {}",
                table.table_url()
            )));
        }
        table.load().await?;
        Ok(table)
    }

    /// Opens the table, creating it with tongdian's schema if it is not there.
    /// Several workers may race to create it; the loser loads the winner's.
    async fn open_or_create(&self, table: TableId) -> Result<DeltaTable, IngestError> {
        let err = |source| IngestError::Table {
            table: table.name(),
            source,
        };
        match self.load(table).await {
            Ok(t) => return Ok(t),
            Err(DeltaTableError::NotATable(_)) => {}
            Err(e) => return Err(err(e)),
        }
        let schema: StructType = table
            .schema()
            .as_ref()
            .try_into_kernel()
            .map_err(|e| err(DeltaTableError::Generic(e.to_string())))?;
        let created = self
            .handle(table)
            .map_err(err)?
            .create()
            .with_table_name(table.name())
            .with_columns(schema.fields().cloned())
            .with_partition_columns(table.partition_columns().iter().copied())
            .await;
        match created {
            Ok(t) => Ok(t),
            Err(_) => self.load(table).await.map_err(err),
        }
    }

    /// Reads the offsets every table holds for these partitions, from the
    /// tables' latest versions: this is what a worker resumes from when it is
    /// assigned a partition.
    pub async fn read_offsets(
        &self,
        partitions: &[TopicPartition],
    ) -> Result<HashMap<TopicPartition, TableOffsets>, IngestError> {
        let mut out: HashMap<TopicPartition, TableOffsets> = partitions
            .iter()
            .map(|p| (p.clone(), TableOffsets::new(self.tables)))
            .collect();
        for table in self.tables.iter() {
            let t = match self.load(table).await {
                Ok(t) => t,
                Err(DeltaTableError::NotATable(_)) => continue,
                Err(source) => {
                    return Err(IngestError::Table {
                        table: table.name(),
                        source,
                    })
                }
            };
            let offsets =
                read_txn_versions(&t, partitions)
                    .await
                    .map_err(|source| IngestError::Table {
                        table: table.name(),
                        source,
                    })?;
            for (p, v) in offsets {
                if let Some(v) = v {
                    out.get_mut(&p).expect("asked for").set(table, v);
                }
            }
        }
        Ok(out)
    }
}

async fn read_txn_versions(
    table: &DeltaTable,
    partitions: &[TopicPartition],
) -> Result<Vec<(TopicPartition, Option<i64>)>, DeltaTableError> {
    let snapshot = table.snapshot()?;
    let log_store = table.log_store();
    let mut out = Vec::with_capacity(partitions.len());
    for p in partitions {
        let v = snapshot
            .transaction_version(log_store.as_ref(), p.app_id())
            .await?;
        out.push((p.clone(), v));
    }
    Ok(out)
}

/// The open tables of one worker.
pub struct DeltaSink {
    location: TableLocation,
    tables: HashMap<TableId, DeltaTable>,
}

impl DeltaSink {
    /// Opens (or creates) every table of the location's set.
    pub async fn open(location: TableLocation) -> Result<DeltaSink, IngestError> {
        let mut tables = HashMap::new();
        for table in location.tables.iter() {
            tables.insert(table, location.open_or_create(table).await?);
        }
        Ok(DeltaSink { location, tables })
    }

    /// The tables' latest offsets for these partitions.
    pub async fn read_offsets(
        &self,
        partitions: &[TopicPartition],
    ) -> Result<HashMap<TopicPartition, TableOffsets>, IngestError> {
        self.location.read_offsets(partitions).await
    }

    /// Commits `batch` (if any) to `table` in one Delta commit together with
    /// the offsets it accounts for, and returns the new table version.
    ///
    /// Fenced: if the table's offsets for a partition are no longer the
    /// `from` this worker knew, another writer has taken the partition over
    /// and nothing is committed ([`IngestError::Fenced`]). A writer racing us
    /// between that check and the commit is caught by Delta's conflict
    /// check (the `txn` app ids are read dependencies), and the next
    /// attempt's fence check names the partition.
    pub async fn commit(
        &mut self,
        table: TableId,
        batch: Option<RecordBatch>,
        advances: &[Advance],
    ) -> Result<i64, IngestError> {
        let err = |source| IngestError::Table {
            table: table.name(),
            source,
        };
        let delta = self
            .tables
            .get_mut(&table)
            .expect("a sink commits only to the tables it opened");
        let mut attempt = 0;
        loop {
            attempt += 1;
            delta.update_state().await.map_err(err)?;
            let found = read_txn_versions(
                delta,
                &advances
                    .iter()
                    .map(|a| a.partition.clone())
                    .collect::<Vec<_>>(),
            )
            .await
            .map_err(err)?;
            for (a, (_, found)) in advances.iter().zip(found) {
                if found != a.from {
                    return Err(IngestError::Fenced {
                        table: table.name(),
                        partition: a.partition.clone(),
                        expected: a.from,
                        found,
                    });
                }
            }
            let txns = advances
                .iter()
                .map(|a| Transaction::new(a.partition.app_id(), a.to))
                .collect();
            // One attempt inside delta-rs: a conflict comes back to us so the
            // fence check above runs against the winner's offsets.
            let properties = CommitProperties::default()
                .with_application_transactions(txns)
                .with_max_retries(0);
            let mut writer = RecordBatchWriter::for_table(delta)
                .map_err(err)?
                .with_commit_properties(properties);
            if let Some(batch) = &batch {
                // Marks the start of a data file's write for the crash test,
                // which SIGKILLs the worker on seeing it.
                tracing::debug!(
                    table = table.name(),
                    rows = batch.num_rows(),
                    "writing data files"
                );
                writer.write(batch.clone()).await.map_err(err)?;
            }
            match writer.flush_and_commit(delta).await {
                Ok(version) => return Ok(version as i64),
                Err(e) if is_conflict(&e) && attempt < MAX_CONFLICT_ATTEMPTS => {
                    tracing::info!(table = table.name(), error = %e, "commit conflict; re-checking offsets");
                }
                Err(e) => return Err(err(e)),
            }
        }
    }
}

/// Conflicts with other writers are retried this often before giving up.
const MAX_CONFLICT_ATTEMPTS: u32 = 20;

fn is_conflict(e: &DeltaTableError) -> bool {
    use deltalake::kernel::transaction::TransactionError;
    matches!(
        e,
        DeltaTableError::VersionAlreadyExists(_)
            | DeltaTableError::Transaction {
                source: TransactionError::CommitConflict(_)
                    | TransactionError::MaxCommitAttempts(_)
            }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advance(partition: i32, from: Option<i64>, to: i64) -> Advance {
        Advance {
            partition: TopicPartition::new("t", partition),
            from,
            to,
        }
    }

    #[test]
    fn the_stores_own_retries_are_cut_unless_the_user_sets_them() {
        let user = HashMap::from([("max_retries".to_owned(), "7".to_owned())]);
        let location = TableLocation::new("s3://lake/tongdian", user);
        assert_eq!(location.storage_options["max_retries"], "7");
        assert_eq!(location.storage_options["retry_timeout"], "5s");
        // delta-rs reads both as its S3 client's retry settings...
        location.handle(TableId::Feedback).unwrap();
        // ...and refuses a value it cannot parse, so the keys do reach it.
        let bad = HashMap::from([("retry_timeout".to_owned(), "soon".to_owned())]);
        let err = TableLocation::new("s3://lake/tongdian", bad)
            .handle(TableId::Feedback)
            .unwrap_err();
        assert!(err.to_string().contains("soon"), "{err}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_writer_that_lost_a_partition_cannot_commit_it() {
        let dir = tempfile::tempdir().unwrap();
        let location = TableLocation::new(dir.path().to_str().unwrap(), HashMap::new());
        let mut zombie = DeltaSink::open(location.clone()).await.unwrap();
        let mut owner = DeltaSink::open(location.clone()).await.unwrap();

        // The zombie committed up to 9, then lost the partition; the new
        // owner read 9 from the table and committed up to 20.
        zombie
            .commit(TableId::DeadLetters, None, &[advance(0, None, 9)])
            .await
            .unwrap();
        owner
            .commit(TableId::DeadLetters, None, &[advance(0, Some(9), 20)])
            .await
            .unwrap();

        // The zombie, still believing the table is at 9, is fenced off...
        let err = zombie
            .commit(
                TableId::DeadLetters,
                None,
                &[advance(1, None, 3), advance(0, Some(9), 15)],
            )
            .await
            .unwrap_err();
        match err {
            IngestError::Fenced {
                partition,
                expected,
                found,
                ..
            } => {
                assert_eq!(
                    (partition.partition, expected, found),
                    (0, Some(9), Some(20))
                );
            }
            other => panic!("expected Fenced, got {other}"),
        }
        // ...and nothing of that commit landed, not even the other partition.
        let offsets = location
            .read_offsets(&[TopicPartition::new("t", 0), TopicPartition::new("t", 1)])
            .await
            .unwrap();
        assert_eq!(
            offsets[&TopicPartition::new("t", 0)].get(TableId::DeadLetters),
            Some(20)
        );
        assert_eq!(
            offsets[&TopicPartition::new("t", 1)].get(TableId::DeadLetters),
            None
        );

        // Knowing the table's offsets, it may go on.
        zombie
            .commit(TableId::DeadLetters, None, &[advance(0, Some(20), 25)])
            .await
            .unwrap();
    }

    #[test]
    fn resume_is_from_the_table_that_is_furthest_behind() {
        let mut o = TableOffsets::default();
        assert_eq!(o.resume_from(), None);
        o.set(TableId::Feedback, 41);
        assert_eq!(o.resume_from(), None, "dead_letters has nothing yet");
        o.set(TableId::DeadLetters, 9);
        assert_eq!(o.resume_from(), Some(10));
    }
}

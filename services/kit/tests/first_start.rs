//! A new SQLite database comes into being whole or not at all: a first start whose
//! migrations fail (or that is interrupted) leaves no file, so the next start migrates from
//! scratch instead of tripping over half-created tables.

use atrium_kit::startup::prepare_database;
use sea_orm::{ConnectionTrait, DbErr};
use sea_orm_migration::prelude::*;

struct CreateNotes;

impl MigrationName for CreateNotes {
    fn name(&self) -> &str {
        "m0001_create_notes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateNotes {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)").await?;
        Ok(())
    }
}

/// A second migration that fails after the first one created its table.
struct Broken;

impl MigrationName for Broken {
    fn name(&self) -> &str {
        "m0002_broken"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Broken {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("ALTER TABLE no_such_table ADD COLUMN x TEXT").await?;
        Ok(())
    }
}

struct FailingMigrator;

impl MigratorTrait for FailingMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateNotes), Box::new(Broken)]
    }
}

struct GoodMigrator;

impl MigratorTrait for GoodMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateNotes)]
    }
}

#[tokio::test]
async fn a_failed_first_migration_leaves_no_database_and_the_next_start_succeeds() {
    let folder = std::env::temp_dir().join(format!("atrium-first-start-{}", uuid::Uuid::new_v4().simple()));
    let file = folder.join("notes.sqlite");
    let url = format!("sqlite://{}?mode=rwc", file.display());

    let failed = prepare_database::<FailingMigrator>(&url, None, 2, None).await;
    assert!(failed.is_err(), "the broken migration fails the start");
    assert!(!file.exists(), "no half-migrated database is left behind");
    let leftovers: Vec<_> = std::fs::read_dir(&folder).expect("the data folder").collect();
    assert!(leftovers.is_empty(), "no building files are left behind: {leftovers:?}");

    let database = prepare_database::<GoodMigrator>(&url, None, 2, None).await.expect("the next start migrates");
    database.execute_unprepared("INSERT INTO notes (body) VALUES ('kept')").await.expect("the table exists");
    database.close().await.expect("close");

    // An existing database is migrated in place and keeps its rows.
    let reopened = prepare_database::<GoodMigrator>(&url, None, 2, None).await.expect("a second start");
    let rows = reopened
        .query_all_raw(sea_orm::Statement::from_string(sea_orm::DatabaseBackend::Sqlite, "SELECT body FROM notes"))
        .await
        .expect("select");
    assert_eq!(rows.len(), 1);
    reopened.close().await.expect("close");
    let _ = std::fs::remove_dir_all(&folder);
}

//! Rows of several tables written together, in as few round trips as the database allows.
//!
//! An issuance batch writes five tables (records, data subjects, personal records, ledger
//! and audit outboxes). One statement after another, each waits for the one before it to
//! come back, and on PostgreSQL the recorder's connection spent more of the batch waiting
//! between statements than in them (`docs/performance.md`). On PostgreSQL the inserts go
//! as one statement — all but the last as data-modifying `WITH` queries, which PostgreSQL
//! runs exactly once whether or not anything refers to them — so a batch is one round
//! trip, and atomic without a transaction of its own. SQLite, in-process, runs them in
//! turn.

use sea_orm::sea_query::{
    Alias, CommonTableExpression, InsertStatement, PostgresQueryBuilder, WithClause,
};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, Iterable, QueryTrait,
    Statement,
};

/// Parameters one PostgreSQL statement may bind (its protocol counts them in 16 bits).
const MAX_PARAMETERS: usize = u16::MAX as usize;
/// Most rows one `INSERT` writes: within both databases' limits on bound parameters for
/// the widest table.
const ROWS_PER_INSERT: usize = 1_000;

/// Rows to insert, statement by statement, each with the most parameters it binds.
#[derive(Debug, Default)]
pub struct Inserts(Vec<(InsertStatement, usize)>);

impl Inserts {
    /// Adds `rows` (of one entity), in inserts of at most [`ROWS_PER_INSERT`] rows.
    pub fn rows<A>(&mut self, rows: impl IntoIterator<Item = A>)
    where
        A: ActiveModelTrait,
    {
        let columns = <A::Entity as EntityTrait>::Column::iter().count();
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let part: Vec<A> = rows.by_ref().take(ROWS_PER_INSERT).collect();
            let binds = part.len() * columns;
            self.0
                .push((A::Entity::insert_many(part).into_query(), binds));
        }
    }

    /// The statements that write the rows, in order: on PostgreSQL as few as one
    /// statement's parameters allow (one, for an issuance batch), elsewhere one an insert.
    pub fn statements(self, backend: DbBackend) -> Vec<Statement> {
        if backend != DbBackend::Postgres {
            return self.0.iter().map(|(i, _)| backend.build(i)).collect();
        }
        let mut statements = Vec::new();
        let mut group: Vec<InsertStatement> = Vec::new();
        let mut parameters = 0;
        for (insert, binds) in self.0 {
            if !group.is_empty() && parameters + binds > MAX_PARAMETERS {
                statements.push(together(std::mem::take(&mut group)));
                parameters = 0;
            }
            group.push(insert);
            parameters += binds;
        }
        if !group.is_empty() {
            statements.push(together(group));
        }
        statements
    }

    /// Writes the rows in `conn` (in a transaction, if they must commit together and
    /// there may be more than one statement).
    pub async fn execute(self, conn: &impl ConnectionTrait) -> Result<(), DbErr> {
        for statement in self.statements(conn.get_database_backend()) {
            conn.execute_raw(statement).await?;
        }
        Ok(())
    }
}

/// `inserts` as one PostgreSQL statement: all but the last as `WITH` queries.
fn together(mut inserts: Vec<InsertStatement>) -> Statement {
    let last = inserts.pop().expect("a group holds an insert");
    let (sql, values) = if inserts.is_empty() {
        last.build(PostgresQueryBuilder)
    } else {
        let mut with = WithClause::new();
        for (n, insert) in inserts.into_iter().enumerate() {
            let mut cte = CommonTableExpression::new();
            cte.query(insert)
                .table_name(Alias::new(format!("insert{n}")));
            with.cte(cte);
        }
        with.query(last).build(PostgresQueryBuilder)
    };
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

#[cfg(test)]
mod tests {
    use sea_orm::{DbBackend, Set};

    use super::Inserts;
    use crate::store::entities::audit_outbox;

    fn entries(count: usize) -> Vec<audit_outbox::ActiveModel> {
        (0..count)
            .map(|n| audit_outbox::ActiveModel {
                tenant_id: Set("default".into()),
                actor: Set("test".into()),
                action: Set("credential.issue".into()),
                subject: Set(format!("urn:uuid:{n}")),
                at_ms: Set(0),
                ..Default::default()
            })
            .collect()
    }

    fn of(parts: &[usize]) -> Inserts {
        let mut inserts = Inserts::default();
        for &rows in parts {
            inserts.rows(entries(rows));
        }
        inserts
    }

    #[test]
    fn postgresql_gets_one_statement_and_sqlite_one_an_insert() {
        let on_sqlite = of(&[3, 2, 1]).statements(DbBackend::Sqlite);
        assert_eq!(on_sqlite.len(), 3);
        assert!(on_sqlite.iter().all(|s| s.sql.starts_with("INSERT")));
        let on_postgres = of(&[3, 2, 1]).statements(DbBackend::Postgres);
        assert_eq!(on_postgres.len(), 1);
        let statement = &on_postgres[0];
        assert!(statement.sql.starts_with("WITH "), "{}", statement.sql);
        assert_eq!(statement.sql.matches("INSERT INTO").count(), 3);
        let bound = statement.values.as_ref().map_or(0, |v| v.0.len());
        assert_eq!(
            bound,
            6 * 5,
            "every row's five values are bound, none inlined"
        );
    }

    #[test]
    fn statements_past_postgresql_s_parameter_limit_are_split() {
        // 12,000 rows in chunks of 1,000, counted at six columns (the id, which the
        // database assigns, too): 72,000 parameters at most, so two statements.
        let statements = of(&[12_000]).statements(DbBackend::Postgres);
        assert_eq!(statements.len(), 2);
        for statement in &statements {
            let bound = statement.values.as_ref().map_or(0, |v| v.0.len());
            assert!(
                bound <= u16::MAX as usize,
                "{bound} parameters in one statement"
            );
        }
        assert_eq!(of(&[]).statements(DbBackend::Postgres).len(), 0);
    }
}

//! `memes` and `user_templates`: the metadata of the meme gallery and of the templates a user
//! imported. The images themselves are files in the data folder (`memes/`, `templates/`); these
//! rows say what each file is, so the gallery can be listed and searched without opening them.
//!
//! Not part of the ledger: rows can be deleted (a user deletes a meme), and
//! [`Ledger::verify`](crate::Ledger::verify) ignores them.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use super::{collect, constraint, Migration};
use crate::error::StoreError;

pub(crate) const MIGRATIONS: &[Migration] = &[(
    3,
    "CREATE TABLE memes (
        id            INTEGER PRIMARY KEY,
        created_ms    INTEGER NOT NULL,
        template_id   TEXT NOT NULL CHECK (length(template_id) BETWEEN 1 AND 64),
        title         TEXT NOT NULL,
        file          TEXT NOT NULL UNIQUE CHECK (length(file) > 0),
        format        TEXT NOT NULL CHECK (format IN ('png', 'jpeg', 'webp', 'gif')),
        width         INTEGER NOT NULL CHECK (width > 0),
        height        INTEGER NOT NULL CHECK (height > 0),
        bytes         INTEGER NOT NULL CHECK (bytes >= 0),
        frames        INTEGER NOT NULL CHECK (frames >= 1),
        spec          TEXT NOT NULL,
        trade_fill_id INTEGER
    );
    CREATE INDEX memes_created ON memes(created_ms);
    CREATE TABLE user_templates (
        id          TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
        name        TEXT NOT NULL CHECK (length(name) > 0),
        created_ms  INTEGER NOT NULL,
        keywords    TEXT NOT NULL,
        source_name TEXT NOT NULL
    ) WITHOUT ROWID;",
)];

/// The longest title or keyword list stored (longer ones are refused).
pub const MAX_META_CHARS: usize = 2_000;

/// A meme to add to the gallery (its file is already in place).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewMeme {
    pub created_ms: i64,
    pub template_id: String,
    /// What the gallery shows and searches: the captions, joined.
    pub title: String,
    /// The file name inside the gallery folder.
    pub file: String,
    /// `png`, `jpeg`, `webp` or `gif`.
    pub format: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    pub frames: u32,
    /// The edit that made it (JSON: template, captions, stickers, size), to reopen it in the
    /// editor.
    pub spec: String,
    /// The fill it was made from, for a meme made from a trade.
    pub trade_fill_id: Option<i64>,
}

/// A meme in the gallery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemeRow {
    pub id: i64,
    #[serde(flatten)]
    pub meme: NewMeme,
}

/// A template the user imported (its folder holds the image and `template.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserTemplateRow {
    /// The folder name under the data folder's `templates/`.
    pub id: String,
    pub name: String,
    pub created_ms: i64,
    /// Space-separated search words.
    pub keywords: String,
    /// The name of the file it was imported from.
    pub source_name: String,
}

fn check_len(what: &str, s: &str) -> Result<(), StoreError> {
    if s.chars().count() > MAX_META_CHARS {
        return Err(StoreError::Invalid(format!(
            "{what} is longer than {MAX_META_CHARS} characters"
        )));
    }
    Ok(())
}

pub(crate) fn insert_meme(conn: &Connection, m: &NewMeme) -> Result<MemeRow, StoreError> {
    check_len("the meme title", &m.title)?;
    if m.file.contains(['/', '\\']) || m.file.starts_with('.') {
        return Err(StoreError::Invalid(format!(
            "meme file {:?} must be a plain file name",
            m.file
        )));
    }
    conn.prepare_cached(
        "INSERT INTO memes (created_ms, template_id, title, file, format, width, height, bytes,
                            frames, spec, trade_fill_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        m.created_ms,
        m.template_id,
        m.title,
        m.file,
        m.format,
        m.width,
        m.height,
        i64::try_from(m.bytes).unwrap_or(i64::MAX),
        m.frames,
        m.spec,
        m.trade_fill_id,
    ])
    .map_err(constraint(|| format!("meme {:?}", m.file)))?;
    Ok(MemeRow {
        id: conn.last_insert_rowid(),
        meme: m.clone(),
    })
}

fn meme_row(row: &Row<'_>) -> Result<MemeRow, StoreError> {
    let bytes: i64 = row.get(8)?;
    Ok(MemeRow {
        id: row.get(0)?,
        meme: NewMeme {
            created_ms: row.get(1)?,
            template_id: row.get(2)?,
            title: row.get(3)?,
            file: row.get(4)?,
            format: row.get(5)?,
            width: row.get(6)?,
            height: row.get(7)?,
            bytes: u64::try_from(bytes).unwrap_or(0),
            frames: row.get(9)?,
            spec: row.get(10)?,
            trade_fill_id: row.get(11)?,
        },
    })
}

const MEME_COLUMNS: &str = "id, created_ms, template_id, title, file, format, width, height, \
                            bytes, frames, spec, trade_fill_id";

/// Memes, newest first. `search`: every word must appear in the title or the template id
/// (case-insensitive).
pub(crate) fn list_memes(
    conn: &Connection,
    search: Option<&str>,
    limit: usize,
) -> Result<Vec<MemeRow>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {MEME_COLUMNS} FROM memes ORDER BY created_ms DESC, id DESC"
    ))?;
    let all = collect(&mut stmt, [], meme_row)?;
    let words: Vec<String> = search
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    Ok(all
        .into_iter()
        .filter(|m| {
            let hay = format!("{} {}", m.meme.title, m.meme.template_id).to_lowercase();
            words.iter().all(|w| hay.contains(w.as_str()))
        })
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect())
}

pub(crate) fn get_meme(conn: &Connection, id: i64) -> Result<Option<MemeRow>, StoreError> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {MEME_COLUMNS} FROM memes WHERE id = ?1"))?;
    let mut rows = stmt.query([id])?;
    match rows.next()? {
        Some(r) => Ok(Some(meme_row(r)?)),
        None => Ok(None),
    }
}

/// Deletes a meme's row; returns it (so the caller can remove the file), or `None`.
pub(crate) fn delete_meme(conn: &Connection, id: i64) -> Result<Option<MemeRow>, StoreError> {
    let found = get_meme(conn, id)?;
    if found.is_some() {
        conn.prepare_cached("DELETE FROM memes WHERE id = ?1")?
            .execute([id])?;
    }
    Ok(found)
}

pub(crate) fn insert_user_template(
    conn: &Connection,
    t: &UserTemplateRow,
) -> Result<(), StoreError> {
    check_len("the template keywords", &t.keywords)?;
    check_len("the template name", &t.name)?;
    conn.prepare_cached(
        "INSERT INTO user_templates (id, name, created_ms, keywords, source_name)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        t.id,
        t.name,
        t.created_ms,
        t.keywords,
        t.source_name
    ])
    .map_err(constraint(|| format!("user template {:?}", t.id)))?;
    Ok(())
}

pub(crate) fn user_templates(conn: &Connection) -> Result<Vec<UserTemplateRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, created_ms, keywords, source_name FROM user_templates
         ORDER BY created_ms, id",
    )?;
    collect(&mut stmt, [], |r| {
        Ok(UserTemplateRow {
            id: r.get(0)?,
            name: r.get(1)?,
            created_ms: r.get(2)?,
            keywords: r.get(3)?,
            source_name: r.get(4)?,
        })
    })
}

pub(crate) fn delete_user_template(conn: &Connection, id: &str) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached("DELETE FROM user_templates WHERE id = ?1")?
        .execute([id])?;
    Ok(n > 0)
}

/// Whether a user template with this id exists.
pub(crate) fn has_user_template(conn: &Connection, id: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM user_templates WHERE id = ?1")?
        .query_row([id], |_| Ok(()))
        .optional()?
        .is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Ledger;

    fn meme(file: &str, title: &str, created_ms: i64) -> NewMeme {
        NewMeme {
            created_ms,
            template_id: "rocket-launch".into(),
            title: title.into(),
            file: file.into(),
            format: "png".into(),
            width: 800,
            height: 600,
            bytes: 12_345,
            frames: 1,
            spec: "{}".into(),
            trade_fill_id: None,
        }
    }

    #[test]
    fn memes_are_listed_newest_first_searched_and_deleted() -> Result<(), StoreError> {
        let ledger = Ledger::open_in_memory()?;
        let a = ledger
            .insert_meme(meme("1.png", "PEPE to the moon", 10))
            .wait()?;
        let b = ledger.insert_meme(meme("2.png", "rekt again", 20)).wait()?;
        let all = ledger.memes(None, 100).wait()?;
        assert_eq!(all.iter().map(|m| m.id).collect::<Vec<_>>(), [b.id, a.id]);
        let found = ledger.memes(Some("pepe MOON"), 100).wait()?;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].meme.file, "1.png");
        assert_eq!(ledger.memes(Some("pepe rekt"), 100).wait()?.len(), 0);
        assert_eq!(ledger.memes(None, 1).wait()?.len(), 1);
        assert_eq!(ledger.delete_meme(a.id).wait()?.map(|m| m.id), Some(a.id));
        assert_eq!(ledger.delete_meme(a.id).wait()?, None);
        assert_eq!(ledger.meme(a.id).wait()?, None);
        assert_eq!(ledger.meme(b.id).wait()?, Some(b));
        Ok(())
    }

    #[test]
    fn bad_meme_rows_are_refused_and_change_nothing() -> Result<(), StoreError> {
        let ledger = Ledger::open_in_memory()?;
        for bad in [
            meme("../escape.png", "x", 1),
            meme(".hidden.png", "x", 1),
            NewMeme {
                format: "bmp".into(),
                ..meme("a.bmp", "x", 1)
            },
            NewMeme {
                width: 0,
                ..meme("a.png", "x", 1)
            },
            meme("a.png", &"x".repeat(MAX_META_CHARS + 1), 1),
        ] {
            let err = ledger.insert_meme(bad.clone()).wait();
            assert!(
                matches!(err, Err(StoreError::Invalid(_))),
                "{bad:?}: {err:?}"
            );
        }
        ledger.insert_meme(meme("a.png", "ok", 1)).wait()?;
        // The same file twice is refused.
        assert!(matches!(
            ledger.insert_meme(meme("a.png", "again", 2)).wait(),
            Err(StoreError::Invalid(_))
        ));
        assert_eq!(ledger.memes(None, 10).wait()?.len(), 1);
        Ok(())
    }

    #[test]
    fn user_templates_round_trip_and_ids_are_unique() -> Result<(), StoreError> {
        let ledger = Ledger::open_in_memory()?;
        let row = UserTemplateRow {
            id: "my-cat".into(),
            name: "My cat".into(),
            created_ms: 5,
            keywords: "cat pet".into(),
            source_name: "cat.jpg".into(),
        };
        ledger.insert_user_template(row.clone()).wait()?;
        assert!(ledger.has_user_template("my-cat").wait()?);
        assert!(matches!(
            ledger.insert_user_template(row.clone()).wait(),
            Err(StoreError::Invalid(_))
        ));
        assert_eq!(ledger.user_templates().wait()?, vec![row]);
        assert!(ledger.delete_user_template("my-cat").wait()?);
        assert!(!ledger.delete_user_template("my-cat").wait()?);
        assert!(ledger.user_templates().wait()?.is_empty());
        Ok(())
    }
}

//! What the hub told this PC when it enrolled, kept with the replica: who the PC is, where
//! it works and the hub key it pinned.

use std::path::Path;

use crate::protocol::device::Enrolment;

use super::{Replica, ReplicaError, ReplicaReader};

fn read(conn: &rusqlite::Connection) -> Result<Option<Enrolment>, ReplicaError> {
    let text: Option<String> = conn.query_row("SELECT enrolment FROM meta", [], |r| r.get(0))?;
    text.map(|t| serde_json::from_str(&t).map_err(|e| ReplicaError::Enrolment(e.to_string())))
        .transpose()
}

impl Replica {
    /// Records the enrolment: from now on the replica is that device's.
    pub fn enrol(&mut self, enrolment: &Enrolment) -> Result<(), ReplicaError> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE meta SET device_id = ?1, enrolment = ?2",
            rusqlite::params![enrolment.device_id.as_str(), serde_json::to_string(enrolment).expect("an enrolment serialises")],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// What the hub said at enrolment; `None` for a PC not enrolled yet.
    pub fn enrolment(&self) -> Result<Option<Enrolment>, ReplicaError> {
        read(&self.conn)
    }
}

impl ReplicaReader {
    pub fn enrolment(&self) -> Result<Option<Enrolment>, ReplicaError> {
        read(&self.conn)
    }
}

/// Removes the replica at `path` with its journal files: the rows, the outbox, the stored
/// documents and the enrolment go with it. For a PC the hub has revoked.
pub fn wipe(path: &Path) -> std::io::Result<()> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        match std::fs::remove_file(&file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

//! What the hub told this PC when it enrolled, kept with the replica: who the PC is, where
//! it works, the hub key it pinned, and where it reaches the hub.

use std::path::Path;

use crate::protocol::device::Enrolment;

use super::{Replica, ReplicaError, ReplicaReader};

fn read(conn: &rusqlite::Connection) -> Result<Option<Enrolment>, ReplicaError> {
    let text: Option<String> = conn.query_row("SELECT enrolment FROM meta", [], |r| r.get(0))?;
    text.map(|t| serde_json::from_str(&t).map_err(|e| ReplicaError::Enrolment(e.to_string())))
        .transpose()
}

/// Where this PC reaches its hub: the address and the CA certificate (PEM) it trusts alone
/// for it (none for a hub on the PC itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubAddress {
    pub url: String,
    pub ca_pem: Option<String>,
}

impl Replica {
    /// Records the enrolment: from now on the replica is that device's.
    pub fn enrol(&mut self, enrolment: &Enrolment) -> Result<(), ReplicaError> {
        self.enrol_at(enrolment, None)
    }

    /// Records the enrolment with where the PC reached the hub, which later starts use.
    pub fn enrol_at(&mut self, enrolment: &Enrolment, hub: Option<&HubAddress>) -> Result<(), ReplicaError> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE meta SET device_id = ?1, enrolment = ?2, enrolled_hub_url = ?3, enrolled_hub_ca = ?4",
            rusqlite::params![
                enrolment.device_id.as_str(),
                serde_json::to_string(enrolment).expect("an enrolment serialises"),
                hub.map(|h| h.url.as_str()),
                hub.and_then(|h| h.ca_pem.as_deref()),
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Where the PC enrolled; `None` when it has not, or enrolled before this was kept.
    pub fn enrolled_hub(&self) -> Result<Option<HubAddress>, ReplicaError> {
        let (url, ca_pem): (Option<String>, Option<String>) = self.conn.query_row("SELECT enrolled_hub_url, enrolled_hub_ca FROM meta", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(url.map(|url| HubAddress { url, ca_pem }))
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

#[cfg(test)]
mod tests {
    use yizhan_core::access::DataScope;

    use super::*;
    use crate::integrity::HubSigner;

    #[test]
    fn where_the_pc_enrolled_is_kept_with_the_enrolment_and_goes_with_the_wipe() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("replica.sqlite3");
        let enrolment = Enrolment {
            device_id: "jn-window-03".parse().unwrap(),
            name: "江宁区 3 号窗口".into(),
            scope: DataScope::All,
            hub_key: HubSigner::generate().public_key().to_hex(),
            clock_margin_seconds: 120,
        };
        let mut replica = Replica::open(&path).unwrap();
        assert_eq!(replica.enrolled_hub().unwrap(), None);
        replica.enrol(&enrolment).unwrap();
        assert_eq!(replica.enrolled_hub().unwrap(), None, "enrolled by the installer's settings");

        let hub = HubAddress { url: "https://hub.example.gov.cn:8640".into(), ca_pem: Some("-----BEGIN CERTIFICATE-----".into()) };
        replica.enrol_at(&enrolment, Some(&hub)).unwrap();
        drop(replica);
        let replica = Replica::open(&path).unwrap();
        assert_eq!(replica.enrolled_hub().unwrap(), Some(hub));
        assert_eq!(replica.enrolment().unwrap(), Some(enrolment));
        drop(replica);

        wipe(&path).unwrap();
        assert_eq!(Replica::open(&path).unwrap().enrolled_hub().unwrap(), None);
    }
}

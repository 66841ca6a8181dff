//! A process and everything it started, read from Linux's /proc: who descends from whom
//! (the parent pid in /proc/PID/stat), and what each costs in memory
//! (/proc/PID/smaps_rollup). For the app benchmark, where the app is WebKitWebDriver's
//! child and WebKit's web and network processes are the app's.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Every live process's parent: pid → ppid. Processes that end while being read are left out.
fn parents() -> HashMap<u32, u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return HashMap::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, stat_fields(pid)?.ppid)))
        .collect()
}

struct Stat {
    ppid: u32,
    state: char,
}

fn stat_fields(pid: u32) -> Option<Stat> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces or parentheses itself.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some(Stat { ppid, state })
}

/// Whether `pid` is still running (a zombie waiting to be reaped is not).
pub fn alive(pid: u32) -> bool {
    stat_fields(pid).is_some_and(|s| s.state != 'Z' && s.state != 'X')
}

/// Every process below `root` (children, their children, …), not `root` itself.
pub fn descendants(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for (pid, ppid) in parents() {
        children.entry(ppid).or_default().push(pid);
    }
    let mut found = Vec::new();
    let mut next = vec![root];
    while let Some(pid) = next.pop() {
        let mut below = children.remove(&pid).unwrap_or_default();
        below.sort_unstable();
        found.extend(&below);
        next.extend(below.iter().rev());
    }
    found
}

/// The program a process runs, as /proc/PID/exe names it.
pub fn exe(pid: u32) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/exe")).ok()
}

/// The first process below `root` that runs the program `program` (once it has exec'd it).
pub fn find_descendant(root: u32, program: &Path) -> Option<u32> {
    descendants(root)
        .into_iter()
        .find(|&pid| exe(pid).is_some_and(|e| e == program))
}

/// What one process costs in memory, in KiB. RSS counts every page it maps that is in
/// RAM, shared or not; PSS divides each shared page among the processes that map it, so
/// the PSS of several processes adds up to what they cost together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Memory {
    pub rss_kib: u64,
    pub pss_kib: u64,
    pub pss_anon_kib: u64,
    pub pss_file_kib: u64,
    pub pss_shmem_kib: u64,
}

impl std::ops::Add for Memory {
    type Output = Memory;

    fn add(self, other: Memory) -> Memory {
        Memory {
            rss_kib: self.rss_kib + other.rss_kib,
            pss_kib: self.pss_kib + other.pss_kib,
            pss_anon_kib: self.pss_anon_kib + other.pss_anon_kib,
            pss_file_kib: self.pss_file_kib + other.pss_file_kib,
            pss_shmem_kib: self.pss_shmem_kib + other.pss_shmem_kib,
        }
    }
}

impl std::iter::Sum for Memory {
    fn sum<I: Iterator<Item = Memory>>(iter: I) -> Memory {
        iter.fold(Memory::default(), |a, b| a + b)
    }
}

/// A process's memory from /proc/PID/smaps_rollup (Linux 4.14+); `None` once it has ended.
pub fn memory(pid: u32) -> Option<Memory> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let mut m = Memory::default();
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        let (Some(key), Some(value)) = (parts.next(), parts.next()) else {
            continue;
        };
        let Ok(kib) = value.parse::<u64>() else {
            continue;
        };
        match key {
            "Rss:" => m.rss_kib = kib,
            "Pss:" => m.pss_kib = kib,
            "Pss_Anon:" => m.pss_anon_kib = kib,
            "Pss_File:" => m.pss_file_kib = kib,
            "Pss_Shmem:" => m.pss_shmem_kib = kib,
            _ => {}
        }
    }
    Some(m)
}

/// One process of a tree and its memory.
#[derive(Debug, Clone)]
pub struct ProcessMemory {
    pub pid: u32,
    /// The file name of its program (`yizhan`, `WebKitWebProcess`, …).
    pub name: String,
    pub memory: Memory,
}

/// `root` and every process below it, each with its memory, `root` first.
pub fn tree_memory(root: u32) -> Vec<ProcessMemory> {
    std::iter::once(root)
        .chain(descendants(root))
        .filter_map(|pid| {
            let memory = memory(pid)?;
            let name = exe(pid)
                .and_then(|e| Some(e.file_name()?.to_string_lossy().into_owned()))
                .or_else(|| {
                    std::fs::read_to_string(format!("/proc/{pid}/comm"))
                        .ok()
                        .map(|c| c.trim().to_owned())
                })
                .unwrap_or_else(|| "?".to_owned());
            Some(ProcessMemory { pid, name, memory })
        })
        .collect()
}

/// Where the PSS of `pids` lies, summed over them by what is mapped (KiB): each file by
/// its name (`libwebkit2gtk-4.1.so.0.19.9`, a font, the app's binary), anonymous memory
/// as `[anon]`, and the kernel's names (`[heap]`, `[stack]`) as they are. Largest first.
pub fn pss_by_mapping(pids: &[u32]) -> Vec<(String, u64)> {
    let mut sums: HashMap<String, u64> = HashMap::new();
    for pid in pids {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/smaps")) else {
            continue;
        };
        let mut mapping = String::new();
        for line in text.lines() {
            let Some(first) = line.split_whitespace().next() else {
                continue;
            };
            if !first.ends_with(':') {
                mapping = mapping_name(line);
            } else if first == "Pss:" {
                let kib = line.split_whitespace().nth(1).and_then(|v| v.parse().ok());
                *sums.entry(mapping.clone()).or_default() += kib.unwrap_or(0);
            }
        }
    }
    let mut sorted: Vec<_> = sums.into_iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    sorted
}

/// The name of a mapping from its smaps header, `start-end perms offset dev inode [path]`.
fn mapping_name(header: &str) -> String {
    let mut rest = header;
    for _ in 0..5 {
        rest = rest.trim_start();
        rest = rest.find(char::is_whitespace).map_or("", |i| &rest[i..]);
    }
    let path = rest.trim();
    if path.is_empty() {
        "[anon]".to_owned()
    } else if path.starts_with('[') {
        path.to_owned()
    } else {
        Path::new(path)
            .file_name()
            .map_or_else(|| path.to_owned(), |n| n.to_string_lossy().into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::mapping_name;

    #[test]
    fn mappings_are_named_by_file_or_kind() {
        let lib = "7f1c2a000000-7f1c2a200000 r-xp 00100000 08:01 393  /usr/lib/x86_64-linux-gnu/libwebkit2gtk-4.1.so.0.19.9";
        assert_eq!(mapping_name(lib), "libwebkit2gtk-4.1.so.0.19.9");
        assert_eq!(
            mapping_name("7f1c2a000000-7f1c2a200000 rw-p 00000000 00:00 0 "),
            "[anon]"
        );
        assert_eq!(
            mapping_name("55d4224b1000-55d4224d2000 rw-p 00000000 00:00 0    [heap]"),
            "[heap]"
        );
        let deleted = "7f00-7f10 rw-s 00000000 00:01 5   /SYSV00000000 (deleted)";
        assert_eq!(mapping_name(deleted), "SYSV00000000 (deleted)");
    }
}

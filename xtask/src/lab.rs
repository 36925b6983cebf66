//! JupyterLab from the notebook cache: the kernel launcher, the server (`cargo xtask notebook
//! --open`), and the check that the server lists the `rust` kernel and runs a cell through its
//! REST and WebSocket API (part of every `cargo xtask notebook`).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// Starts evcxr with the cache's shared build folder when no other kernel holds it, else with a
/// private temporary one: two kernels writing one build folder would load each other's cells.
/// `LAUNCHER EVCXR BUILD_DIR ARGS...`. The lock (`flock`, released by the kernel when the last
/// process holding it exits) is the same OS lock as `scratchnet_fileio::DirLock`'s.
pub const KERNEL_LAUNCHER: &str = r#"import errno, fcntl, os, sys
evcxr, build = sys.argv[1], sys.argv[2]
os.makedirs(build, exist_ok=True)
lock = os.path.join(build, "scratchnet-kernel.lock")
try:
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.set_inheritable(fd, True)  # held by evcxr (after exec) and its children
    os.environ["EVCXR_TMPDIR"] = build
except OSError as e:
    why = "in use by another Rust kernel" if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN) else str(e)
    print(f"scratchnet: the shared build folder {build} is {why}; this kernel compiles in a "
          "temporary folder (its first cell takes minutes)", file=sys.stderr)
    os.environ.pop("EVCXR_TMPDIR", None)
os.execv(evcxr, [evcxr] + sys.argv[3:])
"#;

/// Asks a running server, through its REST API, for the kernelspecs (which must list KERNEL),
/// opens a session on NOTEBOOK with that kernel, executes CODE through the kernel's WebSocket
/// channel and prints what it printed; exit 3 on a failed check.
/// `CHECK BASE_URL TOKEN KERNEL NOTEBOOK TIMEOUT` with CODE on stdin.
const CHECK: &str = r#"import json, sys, time, urllib.request, uuid
from websocket import create_connection
base, token, kernel, notebook, timeout = sys.argv[1:]
code = sys.stdin.read()
auth = {"Authorization": f"token {token}"}
def fail(msg):
    print(f"server check: {msg}", file=sys.stderr)
    sys.exit(3)
def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={**auth, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        text = r.read()
    return json.loads(text) if text else None
specs = call("GET", "/api/kernelspecs")
names = sorted(specs["kernelspecs"])
print(f"GET /api/kernelspecs: {', '.join(names)}")
if kernel not in names:
    fail(f"no kernel {kernel!r} among {names}")
s = call("POST", "/api/sessions", {"path": notebook, "name": notebook, "type": "notebook",
                                   "kernel": {"name": kernel}})
kid = s["kernel"]["id"]
print(f"POST /api/sessions: kernel {s['kernel']['name']} {kid}")
session = uuid.uuid4().hex
ws = create_connection(f"{base.replace('http', 'ws', 1)}/api/kernels/{kid}/channels?session_id={session}",
                       header=[f"Authorization: token {token}"], timeout=float(timeout))
msg_id = uuid.uuid4().hex
ws.send(json.dumps({
    "header": {"msg_id": msg_id, "session": session, "username": "scratchnet",
               "msg_type": "execute_request", "version": "5.3",
               "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
    "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
    "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                "allow_stdin": False, "stop_on_error": True}}))
out, status, idle = [], None, False
deadline = time.time() + float(timeout)
while not (status and idle):
    if time.time() > deadline:
        fail(f"no reply within {timeout} s")
    m = json.loads(ws.recv())
    if m.get("parent_header", {}).get("msg_id") != msg_id:
        continue
    kind, content = m["msg_type"], m["content"]
    if kind == "stream":
        out.append(content["text"])
    elif kind in ("execute_result", "display_data"):
        out.append(content["data"].get("text/plain", "") + "\n")
    elif kind == "error":
        out.append(f"{content['ename']}: {content['evalue']}\n")
    elif kind == "execute_reply":
        status = content["status"]
    elif kind == "status" and content["execution_state"] == "idle":
        idle = True
ws.close()
call("DELETE", f"/api/sessions/{s['id']}")
text = "".join(out)
print(f"execute_request over /api/kernels/{kid}/channels: {status}; the cell printed:")
print("  " + text.strip().replace("\n", "\n  "))
if status != "ok":
    fail(f"the cell ended with status {status}")
"#;

/// A JupyterLab server started from the cache's venv, on loopback, with a fresh token. Dropping
/// it shuts it down (which shuts its kernels down).
pub struct Server {
    child: Child,
    port: u16,
    token: String,
}

/// What the server needs from the cache and the workspace.
pub struct Setup<'a> {
    pub python: &'a Path,
    pub jupyter_data: &'a Path,
    pub notebook_dir: &'a Path,
    pub mnist: &'a Path,
}

/// A port free on loopback now (the server is told not to try others, so a lost race is an
/// error, not a server on another port).
fn free_port() -> anyhow::Result<u16> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("no free port on 127.0.0.1")?;
    Ok(l.local_addr()?.port())
}

/// Whether this process runs as root (the owner of `/proc/self`).
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// 32 hex digits from the OS's random source: the server's token.
fn token() -> anyhow::Result<String> {
    let mut b = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .context("cannot read /dev/urandom for the server's token")?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

impl Server {
    /// Starts `python -m jupyterlab` serving `notebook_dir`; `browser` lets Jupyter open the
    /// user's browser on `default_url`.
    /// Its output goes to `log` when given (the server check), else to the terminal.
    pub fn start(
        setup: &Setup<'_>,
        default_url: &str,
        browser: bool,
        log: Option<&Path>,
    ) -> anyhow::Result<Server> {
        let port = free_port()?;
        let token = token()?;
        let mut cmd = Command::new(setup.python);
        cmd.args(["-m", "jupyterlab"])
            .arg(format!("--ServerApp.port={port}"))
            .args([
                "--ServerApp.ip=127.0.0.1",
                "--ServerApp.port_retries=0",
                // Ctrl-C stops it at once, no y/n question on a terminal
                "--ServerApp.answer_yes=True",
            ])
            .arg(format!("--IdentityProvider.token={token}"))
            .arg(format!(
                "--ServerApp.root_dir={}",
                setup.notebook_dir.display()
            ))
            .arg(format!("--LabApp.default_url={default_url}"))
            .arg(format!(
                "--ServerApp.open_browser={}",
                if browser { "True" } else { "False" }
            ))
            .current_dir(setup.notebook_dir);
        if running_as_root() {
            // Jupyter refuses root unless told; CI containers run as root. The server listens
            // on loopback only, behind a fresh token.
            cmd.arg("--ServerApp.allow_root=True");
        }
        if let Some(log) = log {
            let file = std::fs::File::create(log)
                .with_context(|| format!("cannot create {}", log.display()))?;
            cmd.stdout(file.try_clone()?).stderr(file);
        }
        jupyter_env(&mut cmd, setup.jupyter_data, setup.mnist);
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot run {} -m jupyterlab", setup.python.display()))?;
        Ok(Server { child, port, token })
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The URL that opens `path` (relative to the served folder) in JupyterLab.
    pub fn url(&self, path: &str) -> String {
        format!("{}/lab/tree/{path}?token={}", self.base(), self.token)
    }

    /// Waits until `GET /api/status` answers 200, or the server exits, or `timeout` passes.
    pub fn wait_ready(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("JupyterLab exited before it served ({status})");
            }
            if self.get_status("/api/status").ok() == Some(200) {
                return Ok(());
            }
            if start.elapsed() > timeout {
                bail!(
                    "JupyterLab did not answer on {} within {} s",
                    self.base(),
                    timeout.as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The HTTP status of an authenticated request (plain HTTP/1.0 on loopback).
    fn request_status(&self, method: &str, path: &str) -> std::io::Result<u16> {
        let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            s,
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\nAuthorization: token {}\r\nContent-Length: 0\r\n\r\n",
            self.port, self.token
        )?;
        let mut head = [0u8; 12];
        s.read_exact(&mut head)?;
        std::str::from_utf8(&head[9..12])
            .ok()
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| std::io::Error::other("not an HTTP status line"))
    }

    fn get_status(&self, path: &str) -> std::io::Result<u16> {
        self.request_status("GET", path)
    }

    /// Runs [`CHECK`]: kernelspecs list `kernel`, a session on `notebook` runs `code`.
    pub fn check(
        &self,
        python: &Path,
        kernel: &str,
        notebook: &str,
        code: &str,
        timeout: u64,
    ) -> anyhow::Result<()> {
        let mut child = Command::new(python)
            .arg("-c")
            .arg(CHECK)
            .arg(self.base())
            .arg(&self.token)
            .arg(kernel)
            .arg(notebook)
            .arg(timeout.to_string())
            .stdin(std::process::Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot run {}", python.display()))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(code.as_bytes())?;
        }
        let status = child.wait()?;
        if !status.success() {
            bail!("the JupyterLab server check failed ({status})");
        }
        Ok(())
    }

    /// Waits for the server to exit by itself (Ctrl-C, or File > Shut Down in JupyterLab).
    pub fn wait(mut self) -> anyhow::Result<ExitStatus> {
        let status = self.child.wait()?;
        // nothing left to shut down in Drop
        std::mem::forget(self);
        Ok(status)
    }
}

impl Drop for Server {
    /// `POST /api/shutdown` (the server stops its kernels), then waits up to 30 s; kills the
    /// process only if it is still there.
    fn drop(&mut self) {
        let _ = self.request_status("POST", "/api/shutdown");
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The environment of everything Jupyter started from the cache: its data, config and runtime
/// folders in the cache (never the user's), and MNIST's folder for the notebook.
pub fn jupyter_env(cmd: &mut Command, jupyter_data: &Path, mnist: &Path) {
    cmd.env("JUPYTER_DATA_DIR", jupyter_data)
        .env("JUPYTER_CONFIG_DIR", jupyter_data.join("config"))
        .env("JUPYTER_RUNTIME_DIR", jupyter_data.join("runtime"))
        .env_remove("JUPYTER_PATH")
        .env_remove("JUPYTER_CONFIG_PATH")
        .env(scratchnet_mnist::DIR_ENV, mnist);
}

/// The source of a notebook's first code cell (the server check runs it: it compiles the
/// notebook's dependencies into the shared build folder, which the full run then reuses).
pub fn first_code_cell(nb: &serde_json::Value) -> Option<String> {
    nb.get("cells")?
        .as_array()?
        .iter()
        .find(|c| c.get("cell_type").and_then(|t| t.as_str()) == Some("code"))
        .map(|c| crate::notebook::text_of(c.get("source")))
}

/// The kernel launcher's path inside a kernel spec folder.
pub fn launcher_path(kernel_dir: &Path) -> PathBuf {
    kernel_dir.join("scratchnet-launch.py")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_code_cell_is_found_past_markdown() {
        let nb = serde_json::json!({"cells": [
            {"cell_type": "markdown", "source": "# title"},
            {"cell_type": "code", "source": [":dep a\n", "println!(\"x\");"]},
            {"cell_type": "code", "source": "second"},
        ]});
        assert_eq!(
            first_code_cell(&nb).as_deref(),
            Some(":dep a\nprintln!(\"x\");")
        );
        assert_eq!(first_code_cell(&serde_json::json!({"cells": []})), None);
    }

    /// Runs the launcher with `sh -c` standing in for evcxr: it prints the build folder it was
    /// given, or `private` when EVCXR_TMPDIR is unset.
    fn launch(build: &Path) -> String {
        let out = Command::new("python3")
            .arg("-c")
            .arg(KERNEL_LAUNCHER)
            .arg("/bin/sh")
            .arg(build)
            .args(["-c", "echo ${EVCXR_TMPDIR:-private}"])
            .env("EVCXR_TMPDIR", "/inherited")
            .output()
            .expect("python3 runs");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    #[test]
    fn the_launcher_shares_the_build_folder_only_while_no_other_kernel_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let build = dir.path().join("evcxr-build");
        // free: the shared folder (made if missing)
        assert_eq!(launch(&build), build.display().to_string());
        assert!(build.is_dir());
        // held by another kernel (the same OS lock): a private folder, not the shared one
        let held =
            scratchnet_fileio::DirLock::acquire(build.join("scratchnet-kernel.lock")).unwrap();
        assert_eq!(launch(&build), "private");
        drop(held);
        assert_eq!(launch(&build), build.display().to_string());
    }
}

//! A program (`fromCommand`, a credential plugin) runs in a process group
//! of its own, so that it and every program it starts can be ended
//! together (docs/konduktor-compat.md §5.2): at its timeout, and when this
//! tool gets SIGINT, SIGTERM or SIGHUP while it runs (the handler ends the
//! group, then the tool, by the same signal).
//!
//! A group of its own is a background group: on a terminal it could not
//! ask for a passphrase (SIGTTIN) or turn echo off (SIGTTOU). So, as a
//! shell does for a job, the terminal is handed to the program's group
//! while it runs, if this tool holds it, and taken back after; a Ctrl-C
//! typed meanwhile goes to the program and its children, and a program
//! that Ctrl-C ended ends this tool too, as if the tool had been hit.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicI32, Ordering};

use libc::c_int;

/// The group of the program running now (0: none). Read by the handler.
static RUNNING_GROUP: AtomicI32 = AtomicI32::new(0);
/// The terminal handed to that group (-1: none). Read by the handler.
static HANDED_TERMINAL: AtomicI32 = AtomicI32::new(-1);

/// The terminal's modes before the program ran, for the handler: one
/// slot for the process, allocated once and never freed (a handler may
/// read it at any time), written only while no terminal is handed over.
static SAVED_MODES: std::sync::atomic::AtomicPtr<libc::termios> =
    std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());

/// The signals that end the program's group, and then this tool.
const ENDING: [c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// Our controlling terminal, if this tool is in its foreground group (a
/// job in the background keeps no terminal to hand over), and its modes
/// before the program ran: a program stopped at its timeout or by Ctrl-C
/// may have turned echo off and not lived to turn it back on.
pub struct Terminal(Option<(std::os::fd::OwnedFd, Option<libc::termios>)>);

impl Terminal {
    pub fn ours() -> Self {
        use std::os::fd::{FromRawFd, OwnedFd};
        // SAFETY: a C string literal; `open` returns a new descriptor or -1.
        let fd = unsafe {
            libc::open(
                c"/dev/tty".as_ptr(),
                libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Terminal(None);
        }
        // SAFETY: `fd` was just opened and nothing else owns it.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: plain queries on a descriptor we own.
        let foreground = unsafe { libc::tcgetpgrp(fd) == libc::getpgrp() };
        if !foreground {
            return Terminal(None);
        }
        // SAFETY: a zeroed termios is plain data, filled by tcgetattr.
        let modes = unsafe {
            let mut modes: libc::termios = std::mem::zeroed();
            (libc::tcgetattr(fd, &mut modes) == 0).then_some(modes)
        };
        Terminal(Some((owned, modes)))
    }

    fn raw(&self) -> Option<c_int> {
        use std::os::fd::AsRawFd;
        self.0.as_ref().map(|(fd, _)| fd.as_raw_fd())
    }
}

/// Set `cmd` to start a new process group, and to take `terminal` for it
/// before the program starts (so that it cannot read the terminal before
/// the group holds it).
pub fn prepare(cmd: &mut Command, terminal: &Terminal) {
    cmd.process_group(0);
    if let Some(tty) = terminal.raw() {
        // SAFETY: runs in the child between fork and exec: only
        // async-signal-safe calls (sigprocmask, tcsetpgrp, getpid), no
        // allocation. SIGTTOU is blocked so that a background group may
        // take the terminal, and unblocked before exec.
        unsafe {
            cmd.pre_exec(move || {
                let mut block: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut block);
                libc::sigaddset(&mut block, libc::SIGTTOU);
                libc::sigprocmask(libc::SIG_BLOCK, &block, std::ptr::null_mut());
                libc::tcsetpgrp(tty, libc::getpid());
                libc::sigprocmask(libc::SIG_UNBLOCK, &block, std::ptr::null_mut());
                Ok(())
            });
        }
    }
}

/// Calls `f` with SIGTTOU blocked in this thread (a process outside the
/// terminal's foreground group may then set it).
fn with_sigttou_blocked(f: impl FnOnce()) {
    // SAFETY: sigset_t is plain data, filled by sigemptyset/sigaddset
    // before use; pthread_sigmask changes only this thread's mask.
    unsafe {
        let mut block: libc::sigset_t = std::mem::zeroed();
        let mut before: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut block);
        libc::sigaddset(&mut block, libc::SIGTTOU);
        libc::pthread_sigmask(libc::SIG_BLOCK, &block, &mut before);
        f();
        libc::pthread_sigmask(libc::SIG_SETMASK, &before, std::ptr::null_mut());
    }
}

/// A program running in its group: the handlers are in place and the
/// terminal is its; dropping this takes both back.
pub struct Running {
    group: c_int,
    terminal: Terminal,
    previous: Vec<(c_int, libc::sigaction)>,
}

/// Record the started `child` as the group to end on a signal, hand it
/// the terminal, and put the handlers in place.
pub fn started(child: &Child, terminal: Terminal) -> Running {
    let group = c_int::try_from(child.id()).unwrap_or(0);
    RUNNING_GROUP.store(group, Ordering::SeqCst);
    if let Some(tty) = terminal.raw() {
        if let Some(Some(modes)) = terminal.0.as_ref().map(|(_, modes)| *modes) {
            let mut slot = SAVED_MODES.load(Ordering::SeqCst);
            if slot.is_null() {
                slot = Box::into_raw(Box::new(modes));
                SAVED_MODES.store(slot, Ordering::SeqCst);
            }
            // SAFETY: the slot is never freed, and the handler reads it
            // only once HANDED_TERMINAL (stored below) names a terminal.
            unsafe {
                *slot = modes;
            }
        }
        HANDED_TERMINAL.store(tty, Ordering::SeqCst);
        // Also here, as shells do: whichever of parent and child comes first.
        // SAFETY: we are in the foreground group; tcsetpgrp only changes
        // which group the terminal's input goes to.
        unsafe {
            libc::tcsetpgrp(tty, group);
        }
    }
    let mut previous = Vec::new();
    for signal in ENDING {
        // SAFETY: a zeroed sigaction is a valid value for both arguments;
        // the handler only makes async-signal-safe calls.
        unsafe {
            let mut before: libc::sigaction = std::mem::zeroed();
            // A signal our caller ignores (`nohup`, a job started with `&`
            // by a script) stays ignored: it must not end us now.
            if libc::sigaction(signal, std::ptr::null(), &mut before) != 0
                || before.sa_sigaction == libc::SIG_IGN
            {
                continue;
            }
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            if libc::sigaction(signal, &action, &mut before) == 0 {
                previous.push((signal, before));
            }
        }
    }
    Running {
        group,
        terminal,
        previous,
    }
}

impl Running {
    /// End the program and every process of its group at once (a
    /// timeout, output too large or unreadable), and reap the program.
    pub fn stop(&self, child: &mut Child) {
        if self.group > 0 {
            // SAFETY: a negative pid names the process group we made.
            unsafe {
                libc::kill(-self.group, libc::SIGKILL);
            }
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Did a Ctrl-C typed on the terminal we handed over end the program?
    /// Then this tool ends too, as a shell ends a script (see
    /// [`end_as_interrupted`]).
    pub fn interrupted_at_terminal(&self, status: std::process::ExitStatus) -> bool {
        use std::os::unix::process::ExitStatusExt;
        self.terminal.raw().is_some() && status.signal() == Some(libc::SIGINT)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING_GROUP.store(0, Ordering::SeqCst);
        HANDED_TERMINAL.store(-1, Ordering::SeqCst);
        if let Some(tty) = self.terminal.raw() {
            let modes = self.terminal.0.as_ref().and_then(|(_, modes)| *modes);
            with_sigttou_blocked(|| {
                // SAFETY: gives the terminal back to our own group, then
                // puts back the modes it had before the program ran (as a
                // shell does after a job a signal ended).
                unsafe {
                    libc::tcsetpgrp(tty, libc::getpgrp());
                    if let Some(modes) = &modes {
                        libc::tcsetattr(tty, libc::TCSANOW, modes);
                    }
                }
            });
        }
        for (signal, before) in &self.previous {
            // SAFETY: restores the action sigaction gave us.
            unsafe {
                libc::sigaction(*signal, before, std::ptr::null_mut());
            }
        }
    }
}

/// After a Ctrl-C ended the program: end this tool by SIGINT as well
/// (its caller sees what a Ctrl-C does), once `running` gave the terminal
/// back and put the handlers back.
pub fn end_as_interrupted(running: Running) {
    drop(running);
    // SAFETY: the default action of SIGINT ends the process.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
        libc::raise(libc::SIGINT);
    }
}

/// SIGINT, SIGTERM or SIGHUP while a program runs: ask its group to end
/// (SIGTERM, and SIGCONT for a stopped one), give it a moment, end what
/// is left, take the terminal back, then end this tool by the same signal.
/// Only async-signal-safe calls.
extern "C" fn on_signal(signal: c_int) {
    let group = RUNNING_GROUP.load(Ordering::SeqCst);
    // SAFETY: kill, waitpid, nanosleep, tcsetpgrp, tcsetattr, signal and raise are
    // async-signal-safe; nothing here allocates or locks.
    unsafe {
        if group > 0 {
            libc::kill(-group, libc::SIGTERM);
            libc::kill(-group, libc::SIGCONT);
            // Up to a second for a program to clean up (a password manager
            // turning echo back on), then whatever is left is killed.
            let pause = libc::timespec {
                tv_sec: 0,
                tv_nsec: 10_000_000,
            };
            for _ in 0..100 {
                // Reap the program (ours) so that an empty group reads as gone.
                let mut status = 0;
                libc::waitpid(group, &mut status, libc::WNOHANG);
                if libc::kill(-group, 0) != 0 {
                    break;
                }
                libc::nanosleep(&pause, std::ptr::null_mut());
            }
            libc::kill(-group, libc::SIGKILL);
        }
        let tty = HANDED_TERMINAL.load(Ordering::SeqCst);
        if tty >= 0 {
            libc::signal(libc::SIGTTOU, libc::SIG_IGN);
            libc::tcsetpgrp(tty, libc::getpgrp());
            let modes = SAVED_MODES.load(Ordering::SeqCst);
            if !modes.is_null() {
                libc::tcsetattr(tty, libc::TCSANOW, modes);
            }
        }
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
}

//! Behaviour on a real terminal, through a pseudo-terminal from util-linux
//! `script` (`TestCommand::on_terminal`): colour by default and off with
//! NO_COLOR, and the confirmation prompt before deletions.

use crate::support::{Fault, FaultRule, TestEnv, entry};

#[test]
fn colour_on_a_terminal_unless_no_color() {
    let env = TestEnv::new();
    let file = env.manifest(&[entry("c").inline(&[("A", "a")])]);
    // Colour is expected on a terminal.
    env.cmd(&["diff", "-f", &file])
        .on_terminal("")
        .exits(1)
        .stdout_has("\u{1b}[");
    // NO_COLOR must turn colour off.
    env.cmd(&["diff", "-f", &file])
        .env("NO_COLOR", "1")
        .on_terminal("")
        .stdout_has("Plan: 1 to create")
        .stdout_lacks("\u{1b}[");
}

#[test]
fn deletions_are_confirmed_on_a_terminal() {
    let env = TestEnv::new();
    let v = env.canary("confirm");
    env.create("doomed", &[("K", &v)]).success();
    let file = env.manifest(&[entry("doomed").absent()]);
    env.cmd(&["apply", "-f", &file])
        .on_terminal("no\n")
        .exits(1)
        .stdout_has("Type 'yes' to go on")
        .stdout_has("cancelled");
    assert!(env.my_secret("doomed").is_some());
    env.cmd(&["apply", "-f", &file])
        .on_terminal("yes\n")
        .exits(0);
    assert!(env.my_secret("doomed").is_none());
}

#[test]
fn a_slow_apply_shows_progress_on_a_terminal() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    server.inject(
        FaultRule::new(Fault::Delay(std::time::Duration::from_millis(1500)))
            .on("POST")
            .path("/secrets"),
    );
    let file = env.manifest(&[entry("slow").inline(&[("A", "a")])]);
    env.cmd(&["apply", "-f", &file])
        .on_terminal("")
        .exits(0)
        .stdout_has("Applying: 0/1 done")
        .stdout_has("Apply complete: 1 done.");
}

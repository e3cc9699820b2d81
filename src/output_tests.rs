use super::*;

#[test]
fn ages_like_kubectl() {
    assert_eq!(age(5), "5s");
    assert_eq!(age(119), "119s");
    assert_eq!(age(130), "2m10s");
    assert_eq!(age(600), "10m");
    assert_eq!(age(3 * 3600 + 5 * 60), "3h5m");
    assert_eq!(age(30 * 3600), "30h");
    assert_eq!(age(3 * 86400 + 4 * 3600), "3d4h");
    assert_eq!(age(400 * 86400), "400d");
    assert_eq!(age(-3), "0s");
}

#[test]
fn tables_align() {
    let t = table(
        &["NAME", "KIND"],
        &[
            vec!["a".into(), "env".into()],
            vec!["longer".into(), "default".into()],
        ],
    );
    assert_eq!(t, "NAME     KIND\na        env\nlonger   default\n");
}

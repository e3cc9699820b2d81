use super::split_contexts;

#[test]
fn context_values_split_at_commas_unless_escaped() {
    assert_eq!(split_contexts("train"), ["train"]);
    assert_eq!(split_contexts("train,infer"), ["train", "infer"]);
    assert_eq!(split_contexts("x\\,y"), ["x,y"]);
    assert_eq!(split_contexts("a,x\\,y,b"), ["a", "x,y", "b"]);
    // A backslash before anything else is part of the name.
    assert_eq!(split_contexts("a\\b"), ["a\\b"]);
    assert_eq!(split_contexts(""), [""]);
    assert_eq!(split_contexts("a,"), ["a", ""]);
}

#[test]
fn every_name_with_commas_and_backslashes_round_trips_through_its_escape() {
    let mut rng = crate::test_rng::Rng(22);
    for _ in 0..2_000 {
        let names: Vec<String> = (0..rng.index(4) + 1)
            .map(|_| {
                (0..rng.index(6) + 1)
                    .map(|_| ['a', ',', '\\', 'z', '-'][rng.index(5)])
                    .collect::<String>()
            })
            // A backslash ending a name before the joining comma would
            // escape it: such names are written with a comma after, as a
            // user would have to; leave them out here.
            .filter(|n: &String| !n.ends_with('\\'))
            .collect();
        if names.is_empty() {
            continue;
        }
        let flag: Vec<String> = names.iter().map(|n| n.replace(',', "\\,")).collect();
        assert_eq!(split_contexts(&flag.join(",")), names, "{flag:?}");
    }
}

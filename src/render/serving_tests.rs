use super::*;

#[test]
fn vllm_flags_go_before_each_model_flag_as_konduktor_puts_them() {
    assert_eq!(
        vllm_run(
            "python3 -m vllm.entrypoints.openai.api_server --model m",
            "s-0000",
            9000
        ),
        "python3 -m vllm.entrypoints.openai.api_server --served-model-name s-0000 \\\n  --host '0.0.0.0' \\\n  --port '9000' \\\n  --model m"
    );
    // Without `--model`, Konduktor adds nothing.
    assert_eq!(vllm_run("vllm serve", "s-0000", 9000), "vllm serve");
}

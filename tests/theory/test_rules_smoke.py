from theory import Factor, Frechet, commit, profile_from_confidences


def test_paper_worked_example_factor_commits_2_frechet_commits_4():
    p = profile_from_confidences([0.99, 0.95, 0.82, 0.78, 0.74])
    assert int(commit(Factor(0.7), p).n[0]) == 2
    assert int(commit(Frechet(0.3), p).n[0]) == 4


def test_factor_quirks_force_rank_one_and_commit_all_when_only_the_last_rank_fails():
    low = profile_from_confidences([0.3, 0.2], s=[0.25, 0.2])  # ranks 1 and 2 both fail
    assert int(commit(Factor(1.0), low).n[0]) == 1
    assert int(commit(Factor(1.0, fastdllm_quirks=True), low).n[0]) == 2
    three = profile_from_confidences([0.99, 0.9, 0.1], s=[0.01, 0.1, 0.1])  # rank 3 fails
    assert int(commit(Factor(1.0, fastdllm_quirks=True), three).n[0]) == 3
    assert int(commit(Factor(1.0), three).n[0]) == 2

from theory import Factor, Frechet, commit, profile_from_confidences


def test_paper_worked_example_factor_commits_2_frechet_commits_4():
    p = profile_from_confidences([0.99, 0.95, 0.82, 0.78, 0.74])
    assert int(commit(Factor(0.7), p).n[0]) == 2
    assert int(commit(Frechet(0.3), p).n[0]) == 4

package main

import "github.com/argoproj/argo-workflows/v4/cmd/argo/lint"

// lintOptions is the options type of lint.Lint. Argo v4.0.x calls it LintOptions; v4.1 renamed
// it to lint.Options (and LintResult(s) to Result(s)). Change this line when upgrading.
type lintOptions = lint.LintOptions

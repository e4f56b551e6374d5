// Command argo-eval evaluates Argo `when` conditions and expression tags the way Argo's
// workflow controller does, using Argo's own util/template package, and evaluates KFP
// condition expressions (CEL) the way the KFP backend does, with cel-go. It is a test
// harness: kfp2argo's tests feed it the `when` strings the transpiler generates and compare the
// results with KFP's.
//
// Input: one JSON object per line on stdin (all of it is read first; the requests are answered
// in parallel). Output: one JSON object per line on stdout, in the same order. Requests:
//
//	{"when": "<string with tags>", "scope": {"tasks.t.outputs.parameters.p": "v", ...}, "strict": "tasks"|"all"}
//	    -> {"result": true|false} or {"error": "..."}
//	{"text": "<string with tags>", "scope": {...}, "strict": "tasks"|"all"}
//	    -> {"text": "<rendered string>"} or {"error": "..."}
//	{"expr": "<raw expr-lang expression>", "scope": {...}, "default": "<optional>"}
//	    -> {"text": "<value as Argo stores it>"} or {"error": "..."}
//	{"cel": "<KFP condition>", "parameter_values": {"name": <JSON value>, ...}}
//	    -> {"result": true|false} or {"error": "..."}
//
// "when" and "text" substitute the tags of a DAG task field as
// workflow/controller/dag.go resolveDependencyReferences does: the task is JSON-marshalled and
// passed through util/template.ReplaceStrict with the scope (a flat map of dotted names to
// string values, as the controller's scope is) and the strict prefixes "tasks" and "steps"
// (a missing tasks.* or steps.* reference makes the controller requeue; reported here as an
// error starting "requeue: "). With "strict": "all" the substitution is
// util/template.Replace with allowUnresolved=false instead, as the controller's loop expansion
// (operator.go processItem) does. "when" then evaluates the substituted string as
// workflow/controller/steps.go shouldExecute does: govaluate, with every VARIABLE token read
// as a STRING token, and a result that must be a bool.
//
// "expr" evaluates a DAG template's outputs.parameters[].valueFrom.expression as the controller
// does (see outputExpression).
//
// "cel" compiles and evaluates the condition with cel-go as the KFP backend's
// backend/src/v2/expression.Condition does: a variable `inputs` whose `parameter_values` maps
// names to google.protobuf.Value messages (so numbers are doubles), the default CEL
// environment, and a result that must be a bool. (KFP declares `inputs` through the
// ExecutorInput message; here it is a map with the same field name, which type-checks
// `inputs.parameter_values[k]` to the same dynamic type and gives the same run-time values.)
//
// Exit status: 0 after the last answer (a request whose evaluation fails is answered with its
// error), 2 when a line is not a valid request.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"

	"github.com/Knetic/govaluate"
	"github.com/expr-lang/expr"
	"github.com/google/cel-go/cel"
	"google.golang.org/protobuf/types/known/structpb"

	wfv1 "github.com/argoproj/argo-workflows/v4/pkg/apis/workflow/v1alpha1"
	"github.com/argoproj/argo-workflows/v4/util/expr/env"
	"github.com/argoproj/argo-workflows/v4/util/logging"
	"github.com/argoproj/argo-workflows/v4/util/template"
)

type request struct {
	When            *string                    `json:"when"`
	Text            *string                    `json:"text"`
	Expr            *string                    `json:"expr"`
	Default         *string                    `json:"default"`
	Scope           map[string]string          `json:"scope"`
	Strict          string                     `json:"strict"`
	Cel             *string                    `json:"cel"`
	ParameterValues map[string]json.RawMessage `json:"parameter_values"`
}

type response struct {
	Result *bool   `json:"result,omitempty"`
	Text   *string `json:"text,omitempty"`
	Error  *string `json:"error,omitempty"`
}

func main() {
	ctx := logging.WithLogger(context.Background(), logging.NewSlogLoggerCustom(logging.Error, logging.Text, io.Discard))
	celEnv, err := newCELEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "argo-eval:", err)
		os.Exit(2)
	}
	var requests []request
	in := bufio.NewReader(os.Stdin)
	for n := 1; ; n++ {
		line, err := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var req request
			if jerr := json.Unmarshal(line, &req); jerr != nil {
				fmt.Fprintf(os.Stderr, "argo-eval: line %d: %v\n", n, jerr)
				os.Exit(2)
			}
			requests = append(requests, req)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "argo-eval:", err)
			os.Exit(2)
		}
	}

	// Requests are independent: answer them on every CPU, print them in order.
	responses := make([]response, len(requests))
	failures := make([]error, len(requests))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < runtime.NumCPU(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				responses[i], failures[i] = handle(ctx, celEnv, &requests[i])
			}
		}()
	}
	for i := range requests {
		next <- i
	}
	close(next)
	wg.Wait()

	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for i, resp := range responses {
		if failures[i] != nil {
			out.Flush()
			fmt.Fprintf(os.Stderr, "argo-eval: request %d: %v\n", i+1, failures[i])
			os.Exit(2)
		}
		if err := enc.Encode(resp); err != nil {
			fmt.Fprintln(os.Stderr, "argo-eval:", err)
			os.Exit(2)
		}
	}
}

// handle answers one request; an error return means the request itself is malformed.
func handle(ctx context.Context, celEnv *cel.Env, req *request) (response, error) {
	kinds := 0
	for _, set := range []bool{req.When != nil, req.Text != nil, req.Expr != nil, req.Cel != nil} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return response{}, errors.New(`a request needs exactly one of "when", "text", "expr" and "cel"`)
	}
	if req.Strict != "" && req.Strict != "tasks" && req.Strict != "all" {
		return response{}, fmt.Errorf(`"strict" must be "tasks" or "all", not %q`, req.Strict)
	}
	switch {
	case req.Cel != nil:
		ok, err := evalCEL(celEnv, *req.Cel, req.ParameterValues)
		if err != nil {
			return failure(err), nil
		}
		return response{Result: &ok}, nil
	case req.Expr != nil:
		text, err := outputExpression(*req.Expr, req.Scope, req.Default)
		if err != nil {
			return failure(err), nil
		}
		return response{Text: &text}, nil
	case req.When != nil:
		task := wfv1.DAGTask{Name: "task", Template: "template", When: *req.When}
		if err := substitute(ctx, &task, req.Scope, req.Strict == "all"); err != nil {
			return failure(err), nil
		}
		ok, err := shouldExecute(task.When)
		if err != nil {
			return failure(err), nil
		}
		return response{Result: &ok}, nil
	default:
		// A task argument is one of the fields Argo substitutes in a DAG task.
		value := wfv1.AnyStringPtr(*req.Text)
		task := wfv1.DAGTask{Name: "task", Template: "template", Arguments: wfv1.Arguments{
			Parameters: []wfv1.Parameter{{Name: "p", Value: value}},
		}}
		if err := substitute(ctx, &task, req.Scope, req.Strict == "all"); err != nil {
			return failure(err), nil
		}
		text := task.Arguments.Parameters[0].Value.String()
		return response{Text: &text}, nil
	}
}

// outputExpression evaluates a DAG or steps template's outputs.parameters[].valueFrom.expression
// as the controller does (workflow/controller/scope.go resolveParameter and operator.go
// getTemplateOutputsFromScope): expr-lang over Argo's expression environment built from the
// scope, the value formatted as an AnyString; on an error, the default when one is declared.
// A nil value is an error, as from Argo v4.0.7 (PR #16223; the pinned v4.0.2 wrote "<nil>").
func outputExpression(expression string, scope map[string]string, def *string) (string, error) {
	environment := env.GetFuncMap(template.EnvMap(scope))
	value, err := func() (any, error) {
		program, err := expr.Compile(expression, expr.Env(environment))
		if err != nil {
			return nil, err
		}
		value, err := expr.Run(program, environment)
		if err == nil && value == nil {
			err = fmt.Errorf("expression %q evaluated to nil", expression)
		}
		return value, err
	}()
	if err != nil {
		if def != nil {
			return *def, nil
		}
		return "", err
	}
	return wfv1.AnyStringPtr(value).String(), nil
}

func failure(err error) response {
	msg := err.Error()
	return response{Error: &msg}
}

// substitute replaces the tags in a DAG task as the controller does before it runs the task:
// marshal the task to JSON, substitute, unmarshal.
func substitute(ctx context.Context, task *wfv1.DAGTask, scope map[string]string, strictAll bool) error {
	data, err := json.Marshal(task)
	if err != nil {
		return err
	}
	var replaced string
	if strictAll {
		replaced, err = template.Replace(ctx, string(data), scope, false)
	} else {
		replaced, err = template.ReplaceStrict(ctx, string(data), scope, []string{"tasks", "steps"})
		if err != nil && template.IsMissingVariableErr(err) {
			return fmt.Errorf("requeue: %w", err)
		}
	}
	if err != nil {
		return err
	}
	var out wfv1.DAGTask
	if err := json.Unmarshal([]byte(replaced), &out); err != nil {
		return fmt.Errorf("substituted task is not valid: %w", err)
	}
	*task = out
	return nil
}

// shouldExecute evaluates a substituted `when` string as Argo's controller does: an empty
// string means true; otherwise govaluate parses it, every bare word (a VARIABLE token) is
// taken as a string literal, and the result must be a bool.
func shouldExecute(when string) (bool, error) {
	if when == "" {
		return true, nil
	}
	parsed, err := govaluate.NewEvaluableExpression(when)
	if err != nil {
		return false, fmt.Errorf("invalid 'when' expression %q: %w", when, err)
	}
	tokens := parsed.Tokens()
	for i := range tokens {
		if tokens[i].Kind == govaluate.VARIABLE {
			tokens[i].Kind = govaluate.STRING
		}
	}
	retyped, err := govaluate.NewEvaluableExpressionFromTokens(tokens)
	if err != nil {
		return false, fmt.Errorf("cannot parse 'when' expression %q: %w", when, err)
	}
	value, err := retyped.Evaluate(nil)
	if err != nil {
		return false, fmt.Errorf("cannot evaluate 'when' expression %q: %w", when, err)
	}
	b, ok := value.(bool)
	if !ok {
		return false, fmt.Errorf("'when' expression %q gave %v, not a boolean", when, value)
	}
	return b, nil
}

func newCELEnv() (*cel.Env, error) {
	return cel.NewEnv(cel.Variable("inputs",
		cel.MapType(cel.StringType, cel.MapType(cel.StringType, cel.DynType))))
}

// evalCEL evaluates a KFP condition with the given parameter values (JSON values, turned into
// google.protobuf.Value as KFP holds them).
func evalCEL(env *cel.Env, condition string, values map[string]json.RawMessage) (bool, error) {
	ast, issues := env.Compile(condition)
	if issues != nil && issues.Err() != nil {
		return false, issues.Err()
	}
	program, err := env.Program(ast)
	if err != nil {
		return false, err
	}
	params := map[string]*structpb.Value{}
	for name, raw := range values {
		var native any
		if err := json.Unmarshal(raw, &native); err != nil {
			return false, fmt.Errorf("parameter %q: %w", name, err)
		}
		v, err := structpb.NewValue(native)
		if err != nil {
			return false, fmt.Errorf("parameter %q: %w", name, err)
		}
		params[name] = v
	}
	result, _, err := program.Eval(map[string]any{
		"inputs": map[string]any{"parameter_values": params},
	})
	if err != nil {
		return false, fmt.Errorf("evaluation error: %w", err)
	}
	b, ok := result.Value().(bool)
	if !ok {
		return false, fmt.Errorf("evaluation error: return type is not bool, got %+v", result.Value())
	}
	return b, nil
}

package main

// CRD check: validate each object the way the Kubernetes API server validates a custom
// resource on create, against the openAPIV3Schema of Argo's full CRDs (embedded from the Argo
// module by build.sh). This catches what the cluster enforces and `argo lint` does not:
// maxItems/minItems/maxLength limits, patterns, enums and the CEL rules
// (x-kubernetes-validations).
//
// The steps mirror k8s.io/apiextensions-apiserver: the decoder prunes unknown fields
// (reported as errors, as kubectl's default fieldValidation=Strict does) and applies schema
// defaults; then the create strategy validates object metadata, the OpenAPI schema, embedded
// resources and list-type invariants, and, when none of those produced a blocking error, runs
// the CEL rules with the API server's cost budget.

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"sync"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	metavalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
)

// crdData holds the generated crds/*.json files (see internal/gencrds and build.sh).
//
//go:embed crds
var crdData embed.FS

var crdFiles = map[string]string{
	"Workflow":                "crds/argoproj.io_workflows.json",
	"WorkflowTemplate":        "crds/argoproj.io_workflowtemplates.json",
	"ClusterWorkflowTemplate": "crds/argoproj.io_clusterworkflowtemplates.json",
	"CronWorkflow":            "crds/argoproj.io_cronworkflows.json",
}

type crdValidator struct {
	version         string
	namespaced      bool
	structural      *structuralschema.Structural
	schemaValidator apiservervalidation.SchemaValidator
	cel             *cel.Validator
}

var (
	crdMu    sync.Mutex
	crdCache = map[string]*crdValidator{}
)

// validatorFor loads and compiles the CRD of a kind on first use.
func validatorFor(kind string) (*crdValidator, error) {
	crdMu.Lock()
	defer crdMu.Unlock()
	if v, ok := crdCache[kind]; ok {
		return v, nil
	}
	name, ok := crdFiles[kind]
	if !ok {
		return nil, fmt.Errorf("no CRD for kind %q", kind)
	}
	data, err := crdData.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("CRD data missing (%w); build with tools/argo-harness/build.sh", err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := json.Unmarshal(data, crd); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(crd.Spec.Versions) != 1 || crd.Spec.Versions[0].Schema == nil {
		return nil, fmt.Errorf("%s: expected exactly one version with a schema", name)
	}
	ver := crd.Spec.Versions[0]
	internal := &apiextensions.CustomResourceValidation{}
	if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(ver.Schema, internal, nil); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	ss, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
	if err != nil {
		return nil, fmt.Errorf("%s: not a structural schema: %w", name, err)
	}
	sv, _, err := apiservervalidation.NewSchemaValidator(internal.OpenAPIV3Schema)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	v := &crdValidator{
		version:         crd.Spec.Group + "/" + ver.Name,
		namespaced:      crd.Spec.Scope == apiextensionsv1.NamespaceScoped,
		structural:      ss,
		schemaValidator: sv,
		cel:             cel.NewValidator(ss, true, celconfig.PerCallLimit),
	}
	crdCache[kind] = v
	return v, nil
}

// validateCRD returns the errors the API server would return when creating obj (already
// decoded from JSON, so numbers are int64/float64 as in the API server).
func validateCRD(ctx context.Context, kind string, obj map[string]any) ([]string, error) {
	v, err := validatorFor(kind)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: obj}
	if u.GetAPIVersion() != v.version {
		return []string{fmt.Sprintf("apiVersion: Invalid value: %q: must be %s", u.GetAPIVersion(), v.version)}, nil
	}
	var problems []string

	// What the request context would fill in on create.
	if v.namespaced && u.GetNamespace() == "" {
		u.SetNamespace("default")
	}
	if u.GetName() == "" && u.GetGenerateName() != "" {
		u.SetName(generateName(u.GetGenerateName()))
	}

	// Decoding: unknown fields (pruned by the server; rejected under fieldValidation=Strict,
	// kubectl's default), then schema defaults.
	_, _, metaUnknown, err := schemaobjectmeta.GetObjectMetaWithOptions(u.Object, schemaobjectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	if err != nil {
		return []string{"metadata: " + err.Error()}, nil
	}
	unknown := append(metaUnknown, structuralpruning.PruneWithOptions(u.Object, v.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})...)
	for _, p := range unknown {
		problems = append(problems, fmt.Sprintf("unknown field %q", p))
	}
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(u.Object, v.structural)
	if ferr, _ := schemaobjectmeta.CoerceWithOptions(nil, u.Object, v.structural, false, schemaobjectmeta.CoerceOptions{}); ferr != nil {
		problems = append(problems, ferr.Error())
	}
	structuraldefaulting.Default(u.Object, v.structural)

	// Create strategy validation.
	var errs field.ErrorList
	errs = append(errs, metavalidation.ValidateObjectMetaAccessor(u, v.namespaced, metavalidation.NameIsDNSSubdomain, field.NewPath("metadata"))...)
	errs = append(errs, apiservervalidation.ValidateCustomResource(nil, u.UnstructuredContent(), v.schemaValidator)...)
	errs = append(errs, schemaobjectmeta.Validate(nil, u.Object, v.structural, false)...)
	errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, v.structural, u.Object)...)
	if !blocking(errs) {
		celErrs, _ := v.cel.Validate(ctx, nil, v.structural, u.Object, nil, celconfig.RuntimeCELCostBudget)
		errs = append(errs, celErrs...)
	}
	for _, e := range errs {
		problems = append(problems, e.Error())
	}
	if blocking(errs) {
		problems = append(problems, "some validation rules (x-kubernetes-validations) were not checked because the object was invalid; correct the existing errors to complete validation")
	}
	return problems, nil
}

// blocking reports whether the API server would skip the CEL rules (the error types listed in
// the custom resource strategy of k8s.io/apiextensions-apiserver).
func blocking(errs field.ErrorList) bool {
	for _, e := range errs {
		switch e.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong, field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return true
		}
	}
	return false
}

// generateName mimics the API server's name generation (prefix cut to 58 characters plus
// five random characters); a fixed suffix keeps the output deterministic.
func generateName(prefix string) string {
	if len(prefix) > 58 {
		prefix = prefix[:58]
	}
	return prefix + "xxxxx"
}

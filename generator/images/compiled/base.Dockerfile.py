from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'base.Dockerfile.j2'

def root(context, missing=missing, environment=environment):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_syntax = resolve('syntax')
    l_0_header = resolve('header')
    l_0_lockfiles = resolve('lockfiles')
    l_0_shipped_pins = resolve('shipped_pins')
    l_0_lock_path = resolve('lock_path')
    l_0_mirrored = resolve('mirrored')
    l_0_context = resolve('context')
    l_0_build_mark = resolve('build_mark')
    l_0_build_image = resolve('build_image')
    l_0_runtime_mark = resolve('runtime_mark')
    l_0_runtime_image = resolve('runtime_image')
    l_0_service_json = resolve('service_json')
    l_0_uid = resolve('uid')
    l_0_ports = resolve('ports')
    l_0_entrypoint_escapes = resolve('entrypoint_escapes')
    l_0_entrypoint_json = resolve('entrypoint_json')
    try:
        t_1 = environment.filters['join']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'join' found.")
    pass
    yield '# syntax='
    yield str((undefined(name='syntax') if l_0_syntax is missing else l_0_syntax))
    yield '\n'
    yield str((undefined(name='header') if l_0_header is missing else l_0_header))
    yield '\n#\n# Multi-stage build: the "build" stage restores dependencies only from the lock file\n# ('
    yield str(t_1(context.eval_ctx, (undefined(name='lockfiles') if l_0_lockfiles is missing else l_0_lockfiles), ', '))
    yield ') and is never shipped; the "runtime" stage has no shell\n# and no package manager. Base images, and the BuildKit frontend of the `# syntax=` line,\n'
    if (undefined(name='shipped_pins') if l_0_shipped_pins is missing else l_0_shipped_pins):
        pass
        yield '# are pinned by digest to the pins that cgen '
        yield str(environment.getattr((undefined(name='shipped_pins') if l_0_shipped_pins is missing else l_0_shipped_pins), 'version'))
        yield ' ships (resolved '
        yield str(environment.getattr((undefined(name='shipped_pins') if l_0_shipped_pins is missing else l_0_shipped_pins), 'resolved'))
        yield '):\n# the project has no '
        yield str((undefined(name='lock_path') if l_0_lock_path is missing else l_0_lock_path))
        yield '. `cgen pin --offline` writes these pins there to\n# commit (`cgen pin` resolves current ones); until then another cgen may pin others.\n'
    else:
        pass
        yield '# are pinned by digest from\n#   '
        yield str((undefined(name='lock_path') if l_0_lock_path is missing else l_0_lock_path))
        yield '\n# (`cgen pin` refreshes it; `cgen pin --check` fails when a tag has moved).\n'
    if (undefined(name='mirrored') if l_0_mirrored is missing else l_0_mirrored):
        pass
        yield '# They are pulled through the registry mirrors that cgen.yaml names (registryMirrors).\n'
    yield '#\n# The runtime stage holds its base image and exactly these files; nothing else from the\n# build context or the build stage is shipped:\n'
    yield from context.blocks['shipped'][0](context)
    yield '#\n# Build it with the Dockerfile.dockerignore beside it (BuildKit picks that file up for\n# this Dockerfile; it keeps secrets and local build output out of the context):\n#   docker buildx build --sbom=true --provenance=true -f <this file> \\\n#     --build-arg SOURCE_URL=<repository URL> --build-arg REVISION=<commit> '
    yield str(((undefined(name='context') if l_0_context is missing else l_0_context) or '<context>'))
    yield '\n#   podman build --ignorefile <this file>.dockerignore -f <this file> \\\n#     --build-arg SOURCE_URL=<repository URL> --build-arg REVISION=<commit> '
    yield str(((undefined(name='context') if l_0_context is missing else l_0_context) or '<context>'))
    yield '\n'
    if (undefined(name='context') if l_0_context is missing else l_0_context):
        pass
        yield "# Run them from the project folder: that of cgen.yaml, else the first folder cgen was\n# given (or the first file's folder); the context path "
        yield str((undefined(name='context') if l_0_context is missing else l_0_context))
        yield ' is relative to it.\n'
    yield '# Secrets are never build arguments or ENV (they would stay in the image history): pass\n# them with `RUN --mount=type=secret` where a build really needs one.\n\n# The SBOM also describes the build context, not only the shipped stage.\nARG BUILDKIT_SBOM_SCAN_CONTEXT=true\n\n'
    if (undefined(name='build_mark') if l_0_build_mark is missing else l_0_build_mark):
        pass
        yield str((undefined(name='build_mark') if l_0_build_mark is missing else l_0_build_mark))
        yield '\n'
    yield 'FROM '
    yield str((undefined(name='build_image') if l_0_build_image is missing else l_0_build_image))
    yield " AS build\n# BuildKit's SBOM scan covers this stage too, so the SBOM lists what went into the app.\nARG BUILDKIT_SBOM_SCAN_STAGE=true\n"
    yield from context.blocks['build'][0](context)
    yield '\n'
    if (undefined(name='runtime_mark') if l_0_runtime_mark is missing else l_0_runtime_mark):
        pass
        yield str((undefined(name='runtime_mark') if l_0_runtime_mark is missing else l_0_runtime_mark))
        yield '\n'
    yield 'FROM '
    yield str((undefined(name='runtime_image') if l_0_runtime_image is missing else l_0_runtime_image))
    yield ' AS runtime\n# OCI annotations: where the source is and which commit was built (set by CI).\nARG SOURCE_URL=unknown\nARG REVISION=unknown\nLABEL org.opencontainers.image.title='
    yield str((undefined(name='service_json') if l_0_service_json is missing else l_0_service_json))
    yield ' \\\n      org.opencontainers.image.source="${SOURCE_URL}" \\\n      org.opencontainers.image.revision="${REVISION}"\n'
    yield from context.blocks['runtime'][0](context)
    yield "# Numeric uid:gid, the same as the Deployment's runAsUser/runAsGroup: a user name would\n# fail the kubelet's runAsNonRoot check (and hadolint DL3066).\nUSER "
    yield str((undefined(name='uid') if l_0_uid is missing else l_0_uid))
    yield ':'
    yield str((undefined(name='uid') if l_0_uid is missing else l_0_uid))
    yield '\n'
    for l_1_port in (undefined(name='ports') if l_0_ports is missing else l_0_ports):
        _loop_vars = {}
        pass
        yield 'EXPOSE '
        yield str(l_1_port)
        yield '\n'
    l_1_port = missing
    yield "# HEALTHCHECK NONE on purpose: Kubernetes ignores HEALTHCHECK (the Deployment's probes\n# check health), and the runtime stage has no shell or curl a check could run.\nHEALTHCHECK NONE\n"
    if (undefined(name='entrypoint_escapes') if l_0_entrypoint_escapes is missing else l_0_entrypoint_escapes):
        pass
        yield "# The entrypoint holds JSON-escaped quotes or backslashes: Docker parses the exec form as\n# JSON, hadolint's parser does not and would report DL3025 for a form that is correct.\n# hadolint ignore=DL3025\n"
    yield 'ENTRYPOINT '
    yield str((undefined(name='entrypoint_json') if l_0_entrypoint_json is missing else l_0_entrypoint_json))
    yield '\n'

def block_shipped(context, missing=missing, environment=environment):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    pass
    yield '#   what the COPY lines of the runtime stage below name\n'

def block_build(context, missing=missing, environment=environment):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    pass

def block_runtime(context, missing=missing, environment=environment):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    pass

blocks = {'shipped': block_shipped, 'build': block_build, 'runtime': block_runtime}
debug_info = '1=34&2=36&5=38&7=40&8=43&9=47&13=52&16=54&22=58&29=60&31=62&32=64&34=67&42=70&43=72&45=75&48=77&50=79&51=81&53=84&57=86&60=88&63=90&64=94&65=98&70=102&75=106&22=109&48=119&60=128'
# Generated by `python -m generator.images.precompile`: do not edit.
# From templates/dockerfile/base.Dockerfile.j2.

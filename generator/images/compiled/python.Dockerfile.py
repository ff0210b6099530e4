from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'python.Dockerfile.j2'

def root(context, missing=missing, environment=environment):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    parent_template = None
    pass
    parent_template = environment.get_template('base.Dockerfile.j2', 'python.Dockerfile.j2')
    for name, parent_block in parent_template.blocks.items():
        context.blocks.setdefault(name, []).append(parent_block)
    yield from parent_template.root_render_func(context)

def block_shipped(context, missing=missing, environment=environment):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_app_files = resolve('app_files')
    pass
    yield "#   /app/deps/  the packages pip installed in the build stage from requirements.txt, each\n#               one hash-checked (pip itself and the build image's tools stay behind)\n"
    t_1 = 1
    for l_1_path in (undefined(name='app_files') if l_0_app_files is missing else l_0_app_files):
        _loop_vars = {}
        pass
        yield '#   /app/'
        yield str(l_1_path)
        yield '  from the build context, by name (appFiles)\n'
        t_1 = 0
    l_1_path = missing
    if t_1:
        pass
        yield "#   /app/  the WHOLE build context except Dockerfile.dockerignore's patterns: the\n#          profile names no appFiles (WARNING: anything left in the context ships)\n"
    if (undefined(name='app_files') if l_0_app_files is missing else l_0_app_files):
        pass
        yield '#   .../__pycache__/  beside each Python source above: its bytecode, compiled in the\n#                     build stage\n'

def block_build(context, missing=missing, environment=environment):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_app_files = resolve('app_files')
    pass
    yield "WORKDIR /src\nCOPY requirements.txt ./\n# --require-hashes: every package (and, with --no-deps, every dependency) must be listed\n# in requirements.txt with its hash; anything else fails the build. --target keeps the\n# installed packages in one folder that the runtime stage copies. Not a venv: its\n# interpreter links point at the build image's python, which the runtime image lacks.\n# /app starts empty (whatever the build image keeps there stays behind): the runtime\n# stage takes what this stage puts in it.\nRUN rm -rf /app \\\n && mkdir -p /app/deps \\\n && pip install --no-cache-dir --disable-pip-version-check --root-user-action=ignore \\\n      --no-deps --require-hashes --target /app/deps -r requirements.txt\n"
    if (undefined(name='app_files') if l_0_app_files is missing else l_0_app_files):
        pass
        yield "# The app's own files, each by name (spec.build.appFiles, else the profile's appFiles):\n# nothing else the build context holds reaches the runtime stage. Their bytecode is\n# compiled here, as the runtime's read-only root filesystem lets Python cache none, with\n# checked hashes rather than timestamps: no build time in its bytes, and a .pyc serves\n# only the exact source it came from. A syntax error fails the build, not the first start.\nWORKDIR /app\n"
        for l_1_path in (undefined(name='app_files') if l_0_app_files is missing else l_0_app_files):
            _loop_vars = {}
            pass
            yield 'COPY '
            yield str(l_1_path)
            yield ' /app/'
            yield str(l_1_path)
            yield '\n'
        l_1_path = missing
        yield 'RUN python3 -m compileall -q --invalidation-mode checked-hash'
        for l_1_path in (undefined(name='app_files') if l_0_app_files is missing else l_0_app_files):
            _loop_vars = {}
            pass
            yield ' '
            yield str(l_1_path)
        l_1_path = missing
        yield '\n'

def block_runtime(context, missing=missing, environment=environment):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_app_files = resolve('app_files')
    pass
    yield 'WORKDIR /app\n'
    if (undefined(name='app_files') if l_0_app_files is missing else l_0_app_files):
        pass
        yield "# The installed packages and the app's files with their bytecode, as the build stage left them.\nCOPY --from=build /app /app\n"
    else:
        pass
        yield 'COPY --from=build /app/deps /app/deps\n# WARNING: no appFiles are named, so the whole build context is copied.\nCOPY . /app\n'
    yield '# The root filesystem is read-only at run time: no bytecode writes, unbuffered logs.\nENV PYTHONPATH=/app/deps:/app \\\n    PYTHONDONTWRITEBYTECODE=1 \\\n    PYTHONUNBUFFERED=1\n'

blocks = {'shipped': block_shipped, 'build': block_build, 'runtime': block_runtime}
debug_info = '1=12&2=17&5=28&6=32&11=39&16=43&29=53&36=56&37=60&39=66&43=74&45=84'
# Generated by `python -m generator.images.precompile`: do not edit.
# From templates/dockerfile/python.Dockerfile.j2.

import { type Command, HELP_OPTION, type OptionSpec, UsageError } from './command.ts'

const SHELLS = ['bash', 'zsh'] as const

/**
 * `hearth completion bash|zsh`: a completion script generated from the command table, so a new
 * command or option completes without touching this file. `commands` is read when it runs, since
 * the table includes this command.
 */
export function completionCommand(commands: () => readonly Command[]): Command {
  return {
    name: 'completion',
    summary: 'Print a shell completion script for bash or zsh.',
    usage: `<bash|zsh>

  bash:  source <(hearth completion bash)     (or save it in /etc/bash_completion.d/hearth)
  zsh:   source <(hearth completion zsh)      (or save it as _hearth in a directory of $fpath)`,
    subcommands: SHELLS,
    options: {},
    async run(args, io) {
      const shell = args.positionals[0]
      if (shell === 'bash') io.out(bashScript(commands()))
      else if (shell === 'zsh') io.out(zshScript(commands()))
      else
        throw new UsageError(
          shell ? `no completion for "${shell}" (bash or zsh)` : 'which shell? bash or zsh',
        )
      return 0
    },
  }
}

type Flag = [name: string, spec: OptionSpec]

function flagsOf(cmd: Command): Flag[] {
  return Object.entries({ ...cmd.options, help: HELP_OPTION })
}

/** `--name` and `-n` of an option, as the shell sees them. */
function spellings([name, o]: Flag): string[] {
  return o.short ? [`--${name}`, `-${o.short}`] : [`--${name}`]
}

/** A word list for `compgen -W`, single-quoted for bash. */
function words(list: readonly string[]): string {
  return `'${list.join(' ')}'`
}

function bashScript(commands: readonly Command[]): string {
  const cases = commands.map((cmd) => {
    const values = flagsOf(cmd)
      .filter(([, o]) => o.type === 'string')
      .map((flag) => {
        const [, o] = flag
        const reply = o.choices
          ? `COMPREPLY=($(compgen -W ${words(o.choices)} -- "$cur"))`
          : o.value === 'FILE'
            ? 'COMPREPLY=($(compgen -f -- "$cur"))'
            : 'COMPREPLY=()'
        return `        ${spellings(flag).join('|')}) ${reply}; return ;;`
      })
    const subs = cmd.subcommands?.length
      ? `      if [[ $COMP_CWORD -eq 2 && $cur != -* ]]; then
        COMPREPLY=($(compgen -W ${words(cmd.subcommands)} -- "$cur")); return
      fi\n`
      : ''
    const flags = flagsOf(cmd).flatMap(([name]) => `--${name}`)
    return `    ${cmd.name})
${values.length ? `      case "$prev" in\n${values.join('\n')}\n      esac\n` : ''}${subs}      [[ $cur == -* ]] && COMPREPLY=($(compgen -W ${words(flags)} -- "$cur"))
      ;;`
  })
  return `# bash completion for hearth. Load it with: source <(hearth completion bash)
_hearth() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  COMPREPLY=()
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=($(compgen -W ${words([...commands.map((c) => c.name), '--help', '--version'])} -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases.join('\n')}
  esac
}
# Without a match, file names (backup and restore take one).
complete -o default -F _hearth hearth
`
}

/** Text inside single quotes in zsh. */
function zq(text: string): string {
  return text.replace(/'/g, `'\\''`)
}

/** An `_arguments` spec of one option: `(-c --config)'{-c,--config}'[description]:file:_files`. */
function zshSpec(flag: Flag): string {
  const [name, o] = flag
  const desc = zq(o.description.replace(/([[\]:\\])/g, '\\$1'))
  const action = o.choices
    ? `:${o.value?.toLowerCase() ?? name}:(${o.choices.join(' ')})`
    : o.type === 'string'
      ? `:${o.value?.toLowerCase() ?? name}:${o.value === 'FILE' ? '_files' : ' '}`
      : ''
  const repeat = o.multiple ? '*' : ''
  if (o.short && !o.multiple) {
    return `'(-${o.short} --${name})'{-${o.short},--${name}}'[${desc}]${action}'`
  }
  return `'${repeat}--${name}[${desc}]${action}'`
}

function zshScript(commands: readonly Command[]): string {
  const list = commands.map((c) => `    '${zq(c.name)}:${zq(c.summary)}'`)
  const cases = commands.map((cmd) => {
    const specs = flagsOf(cmd).map(zshSpec)
    if (cmd.subcommands?.length) specs.push(`'1:subcommand:(${cmd.subcommands.join(' ')})'`)
    specs.push("'*:file:_files'")
    return `        ${cmd.name})\n          _arguments -s \\\n            ${specs.join(' \\\n            ')}\n          ;;`
  })
  return `#compdef hearth
# zsh completion for hearth. Load it with: source <(hearth completion zsh)
_hearth() {
  local -a commands
  commands=(
${list.join('\n')}
  )
  local curcontext="$curcontext" state line
  _arguments -C '1:command:->command' '*::argument:->argument'
  case $state in
    command)
      _describe -t commands 'hearth command' commands
      ;;
    argument)
      case $words[1] in
${cases.join('\n')}
      esac
      ;;
  esac
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _hearth "$@"
else
  compdef _hearth hearth
fi
`
}

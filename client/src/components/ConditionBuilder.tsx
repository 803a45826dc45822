// The rule editor's condition builder: react-querybuilder with every control labelled for
// assistive technology. Its default controls carry only a `title` ("Field", "Operator"), the
// same on every row; here each says which condition it belongs to ("Condition 2: comparison").
import {
  QueryBuilder,
  ValueEditor,
  parseNumber,
  toOptions,
  useValueEditor,
  useValueSelector,
  type ActionProps,
  type Field,
  type Path,
  type RuleGroupType,
  type ValueEditorProps,
  type ValueSelectorProps,
} from 'react-querybuilder'

/** "condition 2", "condition 1.3" (the third of the first group). */
export const conditionName = (path: Path) => `condition ${path.map((i) => i + 1).join('.')}`
/** "group 2", or "the conditions" for the outermost group. */
const groupName = (path: Path) => (path.length === 0 ? 'the conditions' : `group ${path.map((i) => i + 1).join('.')}`)
const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)

function LabelledSelect({ label, ...props }: ValueSelectorProps & { label: string }) {
  const { onChange, val } = useValueSelector(props)
  return (
    <select
      data-testid={props.testID}
      className={props.className}
      value={val as string | string[]}
      title={props.title}
      aria-label={label}
      disabled={props.disabled}
      multiple={!!props.multiple}
      onChange={(e) => onChange(props.multiple ? Array.from(e.target.selectedOptions, (o) => o.value) : e.target.value)}
    >
      {toOptions(props.options)}
    </select>
  )
}

const FieldSelector = (props: ValueSelectorProps) => <LabelledSelect {...props} label={`${capital(conditionName(props.path))}: fact`} />
const OperatorSelector = (props: ValueSelectorProps) => <LabelledSelect {...props} label={`${capital(conditionName(props.path))}: comparison`} />
const ValueSelector = (props: ValueSelectorProps) => <LabelledSelect {...props} label={`${capital(conditionName(props.path))}: value`} />
const CombinatorSelector = (props: ValueSelectorProps) => (
  <LabelledSelect {...props} label={props.path.length === 0 ? 'Combine the conditions with' : `${capital(groupName(props.path))}: combine with`} />
)

/** Text and number values get an input of their own, labelled; the other kinds are react-querybuilder's (their selects use ValueSelector above). */
function LabelledValueEditor(props: ValueEditorProps) {
  return (props.type ?? 'text') === 'text' ? <ValueInput {...props} /> : <ValueEditor {...props} />
}

function ValueInput(props: ValueEditorProps) {
  const { valueAsArray, multiValueHandler, parseNumberMethod, inputTypeCoerced, valueListItemClassName } = useValueEditor(props)
  const { operator, value, title, className, disabled, testID, handleOnChange, fieldData } = props
  if (operator === 'null' || operator === 'notNull') return null
  const label = capital(conditionName(props.path))
  if (operator === 'between' || operator === 'notBetween') {
    return (
      <span data-testid={testID} className={className}>
        {(['from', 'to'] as const).map((end, i) => (
          <input
            key={end}
            type={inputTypeCoerced}
            value={(valueAsArray[i] as string | undefined) ?? ''}
            title={title}
            aria-label={`${label}: ${end}`}
            className={valueListItemClassName}
            disabled={disabled}
            onChange={(e) => multiValueHandler(e.target.value, i)}
          />
        ))}
      </span>
    )
  }
  return (
    <input
      data-testid={testID}
      type={inputTypeCoerced}
      placeholder={fieldData?.placeholder ?? ''}
      value={(value as string | number | undefined) ?? ''}
      title={title}
      aria-label={`${label}: value`}
      className={className}
      disabled={disabled}
      onChange={(e) => handleOnChange(parseNumber(e.target.value, { parseNumbers: parseNumberMethod }))}
    />
  )
}

/** A remove button, named for what it removes ("Remove condition 2"): its visible label is a bare ⨯. */
function RemoveButton({ name, ...props }: ActionProps & { name: string }) {
  return (
    <button type="button" data-testid={props.testID} disabled={props.disabled} className={props.className} title={name} aria-label={name} onClick={(e) => props.handleOnClick(e)}>
      {props.label}
    </button>
  )
}
const RemoveRule = (props: ActionProps) => <RemoveButton {...props} name={`Remove ${conditionName(props.path)}`} />
const RemoveGroup = (props: ActionProps) => <RemoveButton {...props} name={`Remove ${groupName(props.path)}`} />

const CONTROLS = {
  fieldSelector: FieldSelector,
  operatorSelector: OperatorSelector,
  valueSelector: ValueSelector,
  combinatorSelector: CombinatorSelector,
  valueEditor: LabelledValueEditor,
  removeRuleAction: RemoveRule,
  removeGroupAction: RemoveGroup,
}

// the add buttons say what they add in words (their visible label is their name)
const TRANSLATIONS = {
  addRule: { label: 'Add a condition', title: 'Add a condition' },
  addGroup: { label: 'Add a group', title: 'Add a group of conditions, combined on their own' },
}

/** The condition builder of the rule editor, over the facts in `fields`. */
export function ConditionBuilder({ fields, query, onChange }: { fields: Field[]; query: RuleGroupType; onChange: (q: RuleGroupType) => void }) {
  return (
    <QueryBuilder
      fields={fields}
      query={query}
      onQueryChange={onChange}
      controlClassnames={{ queryBuilder: 'qb' }}
      controlElements={CONTROLS}
      translations={TRANSLATIONS}
    />
  )
}

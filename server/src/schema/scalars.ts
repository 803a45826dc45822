import { DateTimeResolver, JSONResolver } from 'graphql-scalars'
import { GraphQLScalarType } from 'graphql'
import { builder } from '../builder.js'
import { badInput } from '../errors.js'
import { inputProblem, MAX_JSON_DEPTH } from '../limits/input-text.js'

builder.addScalarType('DateTime', DateTimeResolver)

/** graphql-scalars' JSON, refusing input nested deeper than MAX_JSON_DEPTH or holding text PostgreSQL cannot store. */
const checked = (value: unknown) => {
  const problem = inputProblem(value, MAX_JSON_DEPTH)
  if (problem) throw badInput(problem)
  return value
}
builder.addScalarType(
  'JSON',
  new GraphQLScalarType({
    ...JSONResolver.toConfig(),
    parseValue: (value) => checked(JSONResolver.parseValue(value)),
    parseLiteral: (ast, variables) => checked(JSONResolver.parseLiteral(ast, variables)),
  }),
)

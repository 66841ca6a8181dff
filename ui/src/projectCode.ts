// Investment project codes (投资项目代码), e.g. 2019-320105-47-01-123456. A scanner types
// exactly this shape, which is how a scan is told apart from a typed name search.
const PROJECT_CODE = /^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$/

export function isProjectCode(text: string): boolean {
  return PROJECT_CODE.test(text)
}

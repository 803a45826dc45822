import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
// the base styles first: the screens' own (imported by their components) refine them
import './styles.css'
import { App } from './App'
import './styles/inbox.css'

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
)

import { LiveView, defineEvents, type Params } from '../../plugin.js'

export interface ChatMessage { id: number, name: string, text: string, at: string }

/** The room's last messages, shared by every session of this process. */
const history: ChatMessage[] = []
let nextId = 1
const TOPIC = 'chat:lobby'

/** `/chat`: a room. Open it in two tabs: a message sent in one appears in both. */
export class Chat extends LiveView {
  static template = 'chat'
  static title = 'Chat'
  static events = defineEvents<Chat>({
    send: { schema: { type: 'object', properties: { name: { type: 'string', maxLength: 40 }, text: { type: 'string', maxLength: 500 } }, required: ['text'] } }
  })

  name = ''
  messages: ChatMessage[] = []

  mount (): void {
    this.messages = [...history]
    // Only the connected session listens: the HTTP render just shows the history.
    if (this.connected) this.subscribe(TOPIC)
  }

  send (params: { name?: string, text: string }): void {
    const text = params.text.trim()
    this.name = (params.name ?? '').trim().slice(0, 40)
    if (text === '') return
    const message = { id: nextId++, name: this.name || 'anonymous', text, at: new Date().toISOString().slice(11, 19) }
    history.push(message)
    if (history.length > 50) history.shift()
    // Every session in the room (this one too) hears it through handleInfo.
    void this.broadcast(TOPIC, message)
  }

  handleInfo (message: ChatMessage): void {
    this.messages.push(message)
    if (this.messages.length > 50) this.messages.shift()
  }

  context (): { messages: ChatMessage[], name: string } {
    return { messages: this.messages, name: this.name }
  }
}

/** `/clock`: the server ticks every second; the page updates without asking. */
export class Clock extends LiveView {
  static template = 'clock'
  static title = 'Clock'
  now = new Date()

  mount (_params: Params): void {
    if (this.connected) this.every(1000, 'tick')
  }

  handleInfo (): void { this.now = new Date() }

  context (): { time: string } {
    return { time: this.now.toISOString().slice(11, 19) }
  }
}
